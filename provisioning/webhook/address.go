package webhook

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// Where webhooks may go: only to globally reachable unicast addresses. The deny lists come from
// code.dny.dev/ssrf, which is generated from the IANA IPv4 and IPv6 special-purpose address
// registries: every IPv4 special-purpose block (0.0.0.0/8, 10/8, 100.64/10, 127/8, 169.254/16,
// 172.16/12, 192.0.0/24, the documentation and benchmarking blocks, 240/4 with the broadcast
// address) and multicast; for IPv6 everything outside the global unicast block 2000::/3 (so
// loopback, the unspecified address, IPv4-mapped and -compatible forms, NAT64 64:ff9b::/96 and
// 64:ff9b:1::/48, discard-only, unique-local, site-local fec0::/10, link-local, multicast) and,
// inside it, 2001::/23 (Teredo, ORCHID, benchmarking…), 2001:db8::/32 and 3fff::/20
// (documentation), 6to4 2002::/16 and the AS112 delegation.
//
// On top of the library this file judges an IPv4-mapped address (::ffff:a.b.c.d) as the IPv4
// address it carries, and refuses addresses with a zone.

// guard holds the registries' deny lists; ports are not its business (any port is allowed).
var guard = ssrf.New(ssrf.WithAnyPort())

// Public reports whether webhooks may be sent to ip: it is a globally reachable unicast
// address, outside every block of the IANA special-purpose registries that is not, and
// outside multicast. An IPv4-mapped IPv6 address gets the verdict of its IPv4 address.
func Public(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	return guard.SafeAddr(ip.Unmap()) == nil
}

// Resolver looks up the addresses of a host name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// lookupTimeout bounds the name lookup of a registration.
const lookupTimeout = 5 * time.Second

// Why a URL is refused. errAddress is the one answer for every host that is not allowed,
// whether its name did not resolve, resolved to a private address or is a private address
// itself: a refusal must not tell a partner which internal names exist.
var (
	errScheme  = errors.New("must be an https URL")
	errAddress = errors.New("must be an https URL whose host resolves only to public internet addresses")
)

// CheckURL returns the check that provisioning.WithWebhookURLCheck takes. It requires https and
// a host that resolves only to public addresses (see Public); every refused host gets the same
// answer, so the check cannot be used to probe internal names. With allowPrivate (local work
// and tests) any http or https URL passes. The Sender's client checks each address again
// when it connects, so a host that later resolves elsewhere is still refused.
func CheckURL(allowPrivate bool, resolver Resolver) func(context.Context, *url.URL) error {
	return func(ctx context.Context, u *url.URL) error {
		if allowPrivate {
			return nil
		}
		if u.Scheme != "https" {
			return errScheme
		}
		if !publicHost(ctx, resolver, u.Hostname()) {
			return errAddress
		}
		return nil
	}
}

// publicHost reports whether host is a public address, or a DNS name all of whose addresses
// are public. A name that fails to resolve is not public.
func publicHost(ctx context.Context, resolver Resolver, host string) bool {
	if ip, err := netip.ParseAddr(host); err == nil {
		return Public(ip)
	}
	if !dnsName(host) {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, ip := range addrs {
		if !Public(ip) {
			return false
		}
	}
	return true
}

// dnsName reports whether host is a DNS name rather than some other spelling of an address:
// its last label must not be numeric, which refuses the forms that C resolvers read as IPv4
// ("2130706433", "127.1", "0x7f.1", "0177.0.0.1").
func dnsName(host string) bool {
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := strings.ToLower(labels[len(labels)-1])
	if last == "" || strings.HasPrefix(last, "0x") {
		return false
	}
	return strings.Trim(last, "0123456789") != ""
}

// errRefused is the dial error for an address that is not public.
var errRefused = errors.New("webhook: the address is not a public internet address")

// publicOnly is a net.Dialer Control function: it lets TCP connections go only to public
// addresses (see Public), whatever name led there. The dialer calls it with tcp4 or tcp6 and
// the address it is about to connect to; anything else is refused too.
func publicOnly(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return errRefused
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !Public(ap.Addr()) {
		return errRefused
	}
	return nil
}
