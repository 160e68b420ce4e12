package contract

import (
	"context"
	"slices"
	"testing"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

func TestDefaultTariffsAreNamedInTheDeploymentsLanguage(t *testing.T) {
	t.Parallel()
	for loc, want := range map[string][]string{
		"ru": {"Домашний 100", "Домашний 500", "Домашний GPON 1000", "Домашний DSL 20", "Домашний LTE 50", "Бизнес 200", "Бизнес 1000", "Бизнес DSL 50"},
		"en": {"Home 100", "Home 500", "Home GPON 1000", "Home DSL 20", "Home LTE 50", "Business 200", "Business 1000", "Business DSL 50"},
	} {
		t.Run(loc, func(t *testing.T) {
			t.Parallel()
			c := servicetest.Common(t)
			c.Locale = loc
			db, err := OpenDB(context.Background(), c, servicetest.Logger())
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			db.Table("tariffs").Order("id").Pluck("name", &names)
			if !slices.Equal(names, want) {
				t.Fatalf("tariffs %v, want %v", names, want)
			}
			_ = database.Close(db)
			// A second start in the other language keeps what was seeded.
			c.Locale = map[string]string{"ru": "en", "en": "ru"}[loc]
			again, err := OpenDB(context.Background(), c, servicetest.Logger())
			if err != nil {
				t.Fatal(err)
			}
			defer database.Close(again)
			names = nil
			again.Table("tariffs").Order("id").Pluck("name", &names)
			if !slices.Equal(names, want) {
				t.Fatalf("tariffs %v after a start in %s, want %v", names, c.Locale, want)
			}
		})
	}
}
