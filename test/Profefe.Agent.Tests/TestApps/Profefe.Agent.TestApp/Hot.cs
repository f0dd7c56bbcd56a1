using System.Runtime.CompilerServices;

namespace Profefe.Agent.TestApp;

/// <summary>
/// Pure managed arithmetic (xorshift) in a frame of its own. Also the agent overhead bench's unit of work
/// (bench/Profefe.AgentOverhead links this file), so the bench measures the work the agent tests profile.
/// </summary>
internal static class Hot
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Spin(int iterations)
    {
        var x = 88172645463325252UL;
        for (var i = 0; i < iterations; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }

        return x;
    }
}
