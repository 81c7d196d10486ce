package jwtauth

import (
	"fmt"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

func TestTokenCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := provisioning.Principal{PartnerID: "p"}
	c := tokenCache{ttl: time.Minute}

	c.put("a", p, now.Add(time.Hour), now)
	if _, ok := c.get("a", now.Add(59*time.Second)); !ok {
		t.Fatal("entry missing within the TTL")
	}
	if _, ok := c.get("a", now.Add(time.Minute)); ok {
		t.Fatal("entry outlived the TTL")
	}

	c.put("b", p, now.Add(10*time.Second), now)
	if _, ok := c.get("b", now.Add(10*time.Second)); ok {
		t.Fatal("entry outlived the token's exp")
	}

	for i := range maxCached + 100 {
		c.put(fmt.Sprint(i), p, now.Add(time.Hour), now)
	}
	if n := len(c.entries); n > maxCached {
		t.Fatalf("cache holds %d entries, bound is %d", n, maxCached)
	}

	off := tokenCache{ttl: -1}
	off.put("a", p, now.Add(time.Hour), now)
	if _, ok := off.get("a", now); ok {
		t.Fatal("a disabled cache answered")
	}
}
