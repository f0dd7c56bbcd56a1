using Profefe.Agent.Collection;

namespace Profefe.Agent.Tests;

public sealed class MethodMapTests
{
    [Fact]
    public void Find_NamesTheMethodHoldingTheAddress_AndItsModule()
    {
        var map = new MethodMap();
        map.AddModule(7, "/app/Shop.Orders.dll");
        map.Add(0x2000, 0x100, "Shop.Orders.Checkout.Run", 7);
        map.Add(0x1000, 0x80, "Shop.Orders.Cart.Add", 7);
        map.Add(0x3000, 0x10, "Shop.Unknown.Stub", 8);

        Assert.Equal(("Shop.Orders.Cart.Add", "Shop.Orders"), map.Find(0x1000));
        Assert.Equal(("Shop.Orders.Checkout.Run", "Shop.Orders"), map.Find(0x20ff));
        Assert.Equal(("Shop.Unknown.Stub", ""), map.Find(0x3005));
        Assert.Null(map.Find(0x1080));
        Assert.Null(map.Find(0x2100));
        Assert.Null(map.Find(0xfff));
    }

    [Fact]
    public void Find_SeesMethodsAddedAfterAnEarlierLookup()
    {
        var map = new MethodMap();
        map.Add(0x1000, 0x10, "A.First", 1);
        Assert.Null(map.Find(0x500));

        map.Add(0x500, 0x10, "A.Tiered", 1);

        Assert.Equal("A.Tiered", map.Find(0x505)?.Name);
    }
}
