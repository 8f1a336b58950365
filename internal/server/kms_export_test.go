package server

import (
	"context"
	"time"
)

// AdvanceKMSClock moves the server's KMS clock d ahead (tests jump to a
// key's deletion date).
func (s *Server) AdvanceKMSClock(d time.Duration) { s.kmsSkew.Add(int64(d)) }

// SweepKMS runs the janitor's KMS sweep now (it runs once a minute).
func (s *Server) SweepKMS(ctx context.Context) { s.sweepKeys(ctx) }

// AdvanceSQSClock moves the server's SQS clock d ahead (visibility
// timeouts, delays and retention periods end without waiting).
func (s *Server) AdvanceSQSClock(d time.Duration) { s.sqsSkew.Add(int64(d)) }
