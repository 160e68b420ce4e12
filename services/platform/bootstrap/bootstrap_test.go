package bootstrap_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/bootstrap"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/idempotency/ledger"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

func opener(t *testing.T) (func(context.Context) (*gorm.DB, error), func() *gorm.DB) {
	c := servicetest.Common(t)
	var db *gorm.DB
	return func(ctx context.Context) (*gorm.DB, error) {
		var err error
		db, err = database.Open(ctx, c, "bootstraptest", servicetest.Logger(), []*database.Migration{ledger.Migration("0001_idempotency")})
		return db, err
	}, func() *gorm.DB { return db }
}

func closed(t *testing.T, db *gorm.DB) bool {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	return sqlDB.Ping() != nil
}

func TestAFailingSetupReleasesWhatWasOpened(t *testing.T) {
	open, db := opener(t)
	released := false
	refused := errors.New("no peer")
	err := bootstrap.Run(t.Context(), "bootstraptest", servicetest.Common(t), servicetest.Logger(), open, "127.0.0.1:0", func(s *bootstrap.Service) error {
		s.Defer(func() { released = true })
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("Run = %v, want the setup's error", err)
	}
	if !released || !closed(t, db()) {
		t.Errorf("released %v, database closed %v; want both", released, closed(t, db()))
	}
}

func TestStopCancelsEveryLoopAndWaitsForItBeforeReleasing(t *testing.T) {
	open, db := opener(t)
	ctx, stop := context.WithCancel(t.Context())
	var mu sync.Mutex
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	started := make(chan struct{}, 2)
	loop := func(name string) func(context.Context) error {
		return func(ctx context.Context) error {
			started <- struct{}{}
			<-ctx.Done()
			note(name + " ended")
			return nil
		}
	}
	done := make(chan error, 1)
	go func() {
		done <- bootstrap.Run(ctx, "bootstraptest", servicetest.Common(t), servicetest.Logger(), open, "127.0.0.1:0", func(s *bootstrap.Service) error {
			s.Go(loop("first"))
			s.Go(loop("second"))
			s.Defer(func() { note("released") })
			return nil
		})
	}()
	<-started
	<-started
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil after a stop", err)
	}
	if len(order) != 3 || order[2] != "released" {
		t.Fatalf("order %v: want both loops ended, then the release", order)
	}
	if !closed(t, db()) {
		t.Error("the database is still open")
	}
}

func TestAFailingLoopStopsTheService(t *testing.T) {
	open, _ := opener(t)
	broken := errors.New("queue unreadable")
	otherEnded := false
	err := bootstrap.Run(t.Context(), "bootstraptest", servicetest.Common(t), servicetest.Logger(), open, "127.0.0.1:0", func(s *bootstrap.Service) error {
		s.Go(func(ctx context.Context) error { <-ctx.Done(); otherEnded = true; return nil })
		s.Go(func(context.Context) error { return broken })
		return nil
	})
	if !errors.Is(err, broken) || !otherEnded {
		t.Fatalf("Run = %v (other loop ended %v), want the loop's error after the other ended", err, otherEnded)
	}
}
