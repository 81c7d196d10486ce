package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"testing"

	"github.com/provisiond/provisiond/provisioning/webhook"
)

// refusedBlocks lists, independently of the library the guard uses, every block that webhooks
// must not reach: the IANA IPv4 and IPv6 special-purpose registries (the few entries there
// that are globally reachable anycast services are refused too, being inside refused blocks),
// multicast, and the deprecated IPv6 forms. The IPv4-mapped block ::ffff:0:0/96 is not listed:
// a mapped address gets the verdict of its IPv4 address (see TestMappedAddressesAsTheirIPv4).
var refusedBlocks = []struct{ prefix, name string }{
	{"0.0.0.0/8", "this network"},
	{"0.0.0.0/32", "this host on this network"},
	{"10.0.0.0/8", "private use"},
	{"100.64.0.0/10", "shared address space"},
	{"127.0.0.0/8", "loopback"},
	{"169.254.0.0/16", "link local"},
	{"172.16.0.0/12", "private use"},
	{"192.0.0.0/24", "IETF protocol assignments"},
	{"192.0.0.0/29", "IPv4 service continuity"},
	{"192.0.0.8/32", "IPv4 dummy address"},
	{"192.0.0.9/32", "PCP anycast"},
	{"192.0.0.10/32", "TURN anycast"},
	{"192.0.0.170/31", "NAT64/DNS64 discovery"},
	{"192.0.2.0/24", "documentation TEST-NET-1"},
	{"192.31.196.0/24", "AS112-v4"},
	{"192.52.193.0/24", "AMT"},
	{"192.88.99.0/24", "6to4 relay anycast (deprecated)"},
	{"192.88.99.2/32", "6a44 relay anycast"},
	{"192.168.0.0/16", "private use"},
	{"192.175.48.0/24", "AS112 direct delegation"},
	{"198.18.0.0/15", "benchmarking"},
	{"198.51.100.0/24", "documentation TEST-NET-2"},
	{"203.0.113.0/24", "documentation TEST-NET-3"},
	{"224.0.0.0/4", "multicast"},
	{"240.0.0.0/4", "reserved"},
	{"255.255.255.255/32", "limited broadcast"},

	{"::/128", "unspecified"},
	{"::1/128", "loopback"},
	{"::/96", "IPv4-compatible (deprecated)"},
	{"::ffff:0:0:0/96", "IPv4-translated (SIIT)"},
	{"64:ff9b::/96", "NAT64 well-known prefix"},
	{"64:ff9b:1::/48", "NAT64 local use"},
	{"100::/64", "discard only"},
	{"100:0:0:1::/64", "dummy prefix"},
	{"2001::/23", "IETF protocol assignments"},
	{"2001::/32", "Teredo"},
	{"2001:1::1/128", "PCP anycast"},
	{"2001:1::2/128", "TURN anycast"},
	{"2001:1::3/128", "DNS-SD SRP anycast"},
	{"2001:2::/48", "benchmarking"},
	{"2001:3::/32", "AMT"},
	{"2001:4:112::/48", "AS112-v6"},
	{"2001:10::/28", "ORCHID (deprecated)"},
	{"2001:20::/28", "ORCHIDv2"},
	{"2001:30::/28", "drone remote ID"},
	{"2001:db8::/32", "documentation"},
	{"2002::/16", "6to4"},
	{"2620:4f:8000::/48", "AS112 direct delegation"},
	{"3fff::/20", "documentation"},
	{"5f00::/16", "segment routing SIDs"},
	{"fc00::/7", "unique local"},
	{"fe80::/10", "link local"},
	{"fec0::/10", "site local (deprecated)"},
	{"ff00::/8", "multicast"},
}

// globalUnicast is the only IPv6 block IANA allocates for global unicast: everything outside
// it is reserved or special.
var globalUnicast = netip.MustParsePrefix("2000::/3")

// refusedBlock returns the refused block holding ip, or "".
func refusedBlock(ip netip.Addr) string {
	for _, b := range refusedBlocks {
		if netip.MustParsePrefix(b.prefix).Contains(ip) {
			return b.prefix + " (" + b.name + ")"
		}
	}
	if ip.Is6() && !ip.Is4In6() && !globalUnicast.Contains(ip) {
		return "outside 2000::/3"
	}
	return ""
}

// lastAddr returns the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// privateV4 are IPv4 addresses an attacker would aim at through an IPv6 embedding.
var privateV4 = []string{"127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
	"100.64.0.1", "0.0.0.0", "192.0.0.192", "198.18.0.1", "240.0.0.1", "255.255.255.255"}

// embeddings returns the IPv6 spellings that carry v4: mapped, compatible, SIIT, NAT64 (both
// prefixes), 6to4 and Teredo (whose client address is stored inverted).
func embeddings(v4 netip.Addr) map[string]netip.Addr {
	b := v4.As4()
	with := func(prefix string, at int, bs [4]byte) netip.Addr {
		a := netip.MustParseAddr(prefix).As16()
		copy(a[at:], bs[:])
		return netip.AddrFrom16(a)
	}
	inv := [4]byte{^b[0], ^b[1], ^b[2], ^b[3]}
	return map[string]netip.Addr{
		"mapped":     netip.AddrFrom16(v4.As16()),
		"compatible": with("::", 12, b),
		"SIIT":       with("::ffff:0:0:0", 12, b),
		"NAT64":      with("64:ff9b::", 12, b),
		"NAT64 /48":  with("64:ff9b:1::", 12, b),
		"6to4":       with("2002::1", 2, b),
		"Teredo":     with("2001:0:4136:e378:8000:63bf::", 12, inv),
	}
}

func TestPublicRefusesEverySpecialPurposeBlock(t *testing.T) {
	for _, b := range refusedBlocks {
		p := netip.MustParsePrefix(b.prefix)
		first, last := p.Masked().Addr(), lastAddr(p)
		for _, ip := range []netip.Addr{first, first.Next(), last.Prev(), last} {
			if ip.IsValid() && p.Contains(ip) && webhook.Public(ip) {
				t.Errorf("%s in %s (%s) is allowed", ip, b.prefix, b.name)
			}
		}
	}
	for _, s := range privateV4 {
		for form, ip := range embeddings(netip.MustParseAddr(s)) {
			if webhook.Public(ip) {
				t.Errorf("%s, %s as %s, is allowed", ip, s, form)
			}
		}
	}
	for _, s := range []string{"fe80::1%eth0", "2606:4700::1111%eth0"} {
		if webhook.Public(netip.MustParseAddr(s)) {
			t.Errorf("the zoned address %s is allowed", s)
		}
	}
	if webhook.Public(netip.Addr{}) {
		t.Error("the zero Addr is allowed")
	}
}

func TestPublicAllowsPublicAddresses(t *testing.T) {
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.0",
		"198.17.255.255", "198.20.0.0", "223.255.255.255", "::ffff:8.8.8.8",
		"2606:4700::1111", "2a00:1450:4001:80b::200e", "2001:4860:4860::8888", "2001:200::1"} {
		ip := netip.MustParseAddr(s)
		if !webhook.Public(ip) {
			t.Errorf("the public address %s is refused", s)
		}
		if b := refusedBlock(ip); b != "" {
			t.Errorf("test table: %s is in %s", s, b)
		}
	}
}

func TestMappedAddressesAsTheirIPv4(t *testing.T) {
	for _, s := range append([]string{"8.8.8.8", "1.1.1.1"}, privateV4...) {
		v4 := netip.MustParseAddr(s)
		mapped := netip.AddrFrom16(v4.As16())
		if webhook.Public(mapped) != webhook.Public(v4) {
			t.Errorf("Public(%s) = %v, Public(%s) = %v", mapped, webhook.Public(mapped), v4, webhook.Public(v4))
		}
	}
}

// FuzzPublic checks the guard on arbitrary addresses of both families: whatever it allows lies
// in no refused block (and, for IPv6, in global unicast), and an IPv4-mapped address gets the
// verdict of its IPv4 address.
func FuzzPublic(f *testing.F) {
	for _, s := range []string{"8.8.8.8", "127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::",
		"2001:0:4136:e378:8000:63bf:80ff:fffe", "2606:4700::1111", "fec0::1", "::7f00:1"} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ip netip.Addr
		switch {
		case len(b) >= 16:
			ip = netip.AddrFrom16([16]byte(b[:16]))
		case len(b) >= 4:
			ip = netip.AddrFrom4([4]byte(b[:4]))
		default:
			return
		}
		allowed := webhook.Public(ip)
		if ip.Is4In6() {
			if allowed != webhook.Public(ip.Unmap()) {
				t.Fatalf("Public(%s) = %v but Public(%s) = %v", ip, allowed, ip.Unmap(), !allowed)
			}
			ip = ip.Unmap()
		}
		if b := refusedBlock(ip); allowed && b != "" {
			t.Fatalf("%s is allowed, but it is in %s", ip, b)
		}
	})
}

// fakeResolver answers lookups from a table; a name not in it does not exist.
type fakeResolver map[string][]string

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = netip.MustParseAddr(a)
	}
	return out, nil
}

var names = fakeResolver{
	"hooks.example.com":    {"93.184.216.34", "2606:4700::1111"},
	"internal.example.com": {"10.0.0.7"},
	"mixed.example.com":    {"93.184.216.34", "fd00::7"},
	"nat64.example.com":    {"64:ff9b::a00:7"},
	"mapped.example.com":   {"::ffff:169.254.169.254"},
	"127.0.0.1.nip.io":     {"127.0.0.1"},
}

// A refused URL gets one answer, whatever the reason its host is refused: a partner cannot
// tell a name that does not exist from one that resolves to an internal address.
func TestCheckURLRefusesAlikeWhateverTheReason(t *testing.T) {
	check := webhook.CheckURL(false, names)
	parse := func(raw string) *url.URL {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if err := check(context.Background(), parse("https://hooks.example.com/provisioning")); err != nil {
		t.Fatalf("a public host was refused: %v", err)
	}
	if err := check(context.Background(), parse("https://[2606:4700::1111]:8443/x")); err != nil {
		t.Fatalf("a public address was refused: %v", err)
	}
	if err := check(context.Background(), parse("http://hooks.example.com/x")); err == nil {
		t.Fatal("an http URL was accepted")
	}
	var first error
	refused := []string{"https://missing.example.com/x", "https://internal.example.com/x", "https://mixed.example.com/x",
		"https://nat64.example.com/x", "https://mapped.example.com/x", "https://127.0.0.1.nip.io/x",
		"https://10.0.0.7/x", "https://[::ffff:10.0.0.7]/x", "https://[::10.0.0.7]/x", "https://[64:ff9b::a00:7]/x",
		"https://[2002:a00:7::]/x", "https://[fe80::1%25eth0]/x", "https://2130706433/x", "https://127.1/x",
		"https://0x7f.1/x", "https://0177.0.0.1/x", "https://localhost/x"}
	for _, s := range append(refused, addressURLs()...) {
		err := check(context.Background(), parse(s))
		if err == nil {
			t.Errorf("%s was accepted", s)
			continue
		}
		if first == nil {
			first = err
		}
		if err.Error() != first.Error() {
			t.Errorf("%s: %q, but %s: %q", s, err, refused[0], first)
		}
	}
	// With private targets allowed (local work), anything http or https passes.
	if err := webhook.CheckURL(true, nil)(context.Background(), parse("http://127.0.0.1:8080/x")); err != nil {
		t.Fatalf("allowPrivate: %v", err)
	}
}

// addressURLs returns an https URL for the first address of every refused block.
func addressURLs() []string {
	var out []string
	for _, b := range refusedBlocks {
		ip := netip.MustParsePrefix(b.prefix).Addr()
		out = append(out, fmt.Sprintf("https://%s/x", netip.AddrPortFrom(ip, 443)))
	}
	return out
}

// Resolution errors other than "not found" are refused like the rest.
func TestCheckURLRefusesWhenTheLookupFails(t *testing.T) {
	check := webhook.CheckURL(false, failingResolver{})
	u, _ := url.Parse("https://hooks.example.com/x")
	if err := check(context.Background(), u); err == nil {
		t.Fatal("a host whose lookup failed was accepted")
	}
}

type failingResolver struct{}

func (failingResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return nil, errors.New("server misbehaving")
}
