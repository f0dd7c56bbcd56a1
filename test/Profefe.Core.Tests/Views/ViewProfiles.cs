using Profefe.Pprof;

namespace Profefe.Core.Tests.Views;

/// <summary>Small hand-built profiles: each stack is written root first ("main;work;hash") with one cpu value.</summary>
internal static class ViewProfiles
{
    public static Profile Cpu(params (string Stack, long Value)[] samples)
    {
        var profile = new Profile();
        profile.SampleTypes.Add(new SampleType("samples", "count"));
        profile.SampleTypes.Add(new SampleType("cpu", "nanoseconds"));
        var functions = new Dictionary<string, Location>(StringComparer.Ordinal);
        foreach (var (stack, value) in samples)
        {
            var names = stack.Split(';');
            var locations = new Location[names.Length];
            for (var i = 0; i < names.Length; i++)
            {
                var name = names[names.Length - 1 - i];
                if (!functions.TryGetValue(name, out var location))
                {
                    var function = new Function { Id = (ulong)functions.Count + 1, Name = name, Filename = name + ".go" };
                    location = new Location { Id = function.Id, Lines = [new Line(function, 1)] };
                    profile.Functions.Add(function);
                    profile.Locations.Add(location);
                    functions.Add(name, location);
                }

                locations[i] = location;
            }

            profile.Samples.Add(new Sample { Locations = locations, Values = [1, value] });
        }

        return profile;
    }
}
