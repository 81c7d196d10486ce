package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
)

// sharedAddressSpace is 100.64.0.0/10 (carrier-grade NAT), private in all but name.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// public reports whether an address may receive webhooks: not loopback, private, link-local,
// shared, unspecified or multicast.
func public(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() &&
		!ip.IsLinkLocalMulticast() && !ip.IsInterfaceLocalMulticast() && !ip.IsMulticast() &&
		!ip.IsUnspecified() && !sharedAddressSpace.Contains(ip)
}

// CheckURL returns the check that provisioning.WithWebhookURLCheck takes. It requires https and
// a host that resolves only to public addresses; with allowPrivate (local work and tests) any
// http or https URL passes. The dispatcher checks the address again when it connects, so a
// host that later resolves elsewhere is still refused.
func CheckURL(allowPrivate bool, resolver *net.Resolver) func(context.Context, *url.URL) error {
	return func(ctx context.Context, u *url.URL) error {
		if allowPrivate {
			return nil
		}
		if u.Scheme != "https" {
			return errors.New("must be an https URL")
		}
		host := u.Hostname()
		if ip, err := netip.ParseAddr(host); err == nil {
			if !public(ip) {
				return errors.New("must not point at a loopback, private or link-local address")
			}
			return nil
		}
		addrs, err := resolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return fmt.Errorf("host %q does not resolve", host)
		}
		for _, ip := range addrs {
			if !public(ip) {
				return errors.New("must not resolve to a loopback, private or link-local address")
			}
		}
		return nil
	}
}

// publicOnly is a net.Dialer Control function that refuses connections to addresses that are
// not public, whatever name led there.
func publicOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !public(ap.Addr()) {
		return fmt.Errorf("webhook: refusing to connect to %s: not a public address", address)
	}
	return nil
}
