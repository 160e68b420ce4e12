// Package micros converts between the stored form of a moment — microseconds
// since the Unix epoch in an int64 column — and time.Time or a protobuf
// Timestamp.
//
// One rule for zero holds in every direction: 0 means "not set". It becomes
// the zero time.Time or a nil Timestamp, and a zero time.Time or a nil
// Timestamp is stored as 0. The epoch itself is therefore not representable,
// which no column of this system needs, and an optional moment (a closing
// time, an activation time) needs no separate flag.
package micros

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// Of returns t as microseconds since the epoch; the zero time gives 0.
func Of(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// Time returns the UTC moment us microseconds after the epoch; 0 gives the
// zero time.Time.
func Time(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// Proto returns us as a protobuf Timestamp; 0 gives nil, so an unset moment
// is absent from the message rather than shown as 1970.
func Proto(us int64) *timestamppb.Timestamp {
	if us == 0 {
		return nil
	}
	return timestamppb.New(time.UnixMicro(us).UTC())
}

// FromProto returns ts as microseconds since the epoch, truncating anything
// finer; nil gives 0.
func FromProto(ts *timestamppb.Timestamp) int64 {
	if ts == nil {
		return 0
	}
	return Of(ts.AsTime())
}
