package micros

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestZeroMeansUnsetInEveryDirection(t *testing.T) {
	if got := Of(time.Time{}); got != 0 {
		t.Errorf("Of(zero time) = %d, want 0", got)
	}
	if got := Time(0); !got.IsZero() {
		t.Errorf("Time(0) = %v, want the zero time", got)
	}
	if got := Proto(0); got != nil {
		t.Errorf("Proto(0) = %v, want nil", got)
	}
	if got := FromProto(nil); got != 0 {
		t.Errorf("FromProto(nil) = %d, want 0", got)
	}
}

func TestMomentsSurviveTheRoundTrip(t *testing.T) {
	moscow := time.FixedZone("MSK", 3*3600)
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{"after the epoch", time.Date(2026, 12, 2, 11, 30, 15, 123456000, moscow)},
		{"before the epoch", time.Date(1969, 7, 20, 20, 17, 40, 1000, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			us := Of(tc.at)
			back := Time(us)
			if !back.Equal(tc.at) || back.Location() != time.UTC {
				t.Errorf("Time(Of(%v)) = %v, want the same moment in UTC", tc.at, back)
			}
			if got := FromProto(Proto(us)); got != us {
				t.Errorf("FromProto(Proto(%d)) = %d", us, got)
			}
			if !Proto(us).AsTime().Equal(tc.at) {
				t.Errorf("Proto(%d) = %v, want %v", us, Proto(us).AsTime(), tc.at)
			}
		})
	}
}

func TestFinerThanMicrosecondsIsTruncated(t *testing.T) {
	ts := timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 1999, time.UTC))
	if got, want := FromProto(ts), time.Date(2026, 1, 1, 0, 0, 0, 1000, time.UTC).UnixMicro(); got != want {
		t.Errorf("FromProto = %d, want %d", got, want)
	}
}
