package storetest

import (
	"testing"

	"github.com/sealpost/sealpost/internal/store"
)

// A store grows by domain: store.KeyStore (KMS) and store.QueueStore (SQS)
// are parts a driver's store.Store also implements. part adapts a Harness
// to open such a part I, and runPart runs a part's table of tests.

// part adapts a Harness whose stores also implement I.
type part[I any] struct{ h Harness }

func (p part[I]) open(t *testing.T) I { return as[I](t, p.h.Open(t)) }

func (p part[I]) reopen(t *testing.T, x I) I { return as[I](t, p.h.Reopen(t, storeOf(t, x))) }

// as is s as the part I, or fails the test.
func as[I any](t *testing.T, s store.Store) I {
	x, ok := s.(I)
	if !ok {
		var zero *I
		t.Fatalf("%T does not implement %T", s, zero)
	}
	return x
}

// storeOf is the store.Store behind a part.
func storeOf(t *testing.T, x any) store.Store {
	s, ok := x.(store.Store)
	if !ok {
		t.Fatalf("%T is not a store.Store", x)
	}
	return s
}

// partTest is one test of a part's suite, run with the part's harness H.
type partTest[H any] struct {
	name string
	fn   func(*testing.T, H)
}

func runPart[H any](t *testing.T, h H, tests []partTest[H]) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}
