package task

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

func TestRouteNo1OpensAWelcomeCallAWeekAfterEachConnection(t *testing.T) {
	f := newFixture(t)
	first, err := f.client.GetRoute(admin(), &taskv1.GetRouteRequest{Id: ConnectionRouteID})
	if err != nil {
		t.Fatal(err)
	}
	ups := first.GetRoute().GetFollowUps()
	if len(ups) != 1 || ups[0].GetAfterSeconds() != 7*24*3600 || ups[0].GetTitle() == "" {
		t.Fatalf("route No. 1's follow-ups %v, want one a week after", ups)
	}
	welcome, err := f.client.GetRoute(admin(), &taskv1.GetRouteRequest{Id: ups[0].GetRouteId()})
	if err != nil || welcome.GetRoute().GetConnection() || len(welcome.GetRoute().GetProcesses()) != 1 || len(welcome.GetRoute().GetFollowUps()) != 0 {
		t.Fatalf("the welcome call's route %v: %v", welcome.GetRoute(), err)
	}
}

func TestFollowUpsAreCheckedAgainstTheOtherRoutesAndNeverChain(t *testing.T) {
	f := newFixture(t)
	procs := []*taskv1.Process{{Name: "Call", GroupId: 1}}
	made, err := f.client.CreateRoute(admin(), &taskv1.CreateRouteRequest{Route: &taskv1.Route{
		Name: "Callback", Processes: procs,
		FollowUps: []*taskv1.FollowUp{{RouteId: 2, AfterSeconds: 3600, Title: " Check the line ", Description: "Ask again"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	callback := made.GetRoute()
	got, _ := f.client.GetRoute(admin(), &taskv1.GetRouteRequest{Id: callback.GetId()})
	if ups := got.GetRoute().GetFollowUps(); len(ups) != 1 || ups[0].GetRouteId() != 2 || ups[0].GetAfterSeconds() != 3600 || ups[0].GetTitle() != "Check the line" || ups[0].GetDescription() != "Ask again" {
		t.Fatalf("follow-ups read back %v", ups)
	}
	welcome := int64(7)
	for _, tc := range []struct {
		name  string
		id    int64
		up    *taskv1.FollowUp
		field string
	}{
		{"on route No. 1", callback.GetId(), &taskv1.FollowUp{RouteId: 1, AfterSeconds: 3600, Title: "x"}, "followUps[0].routeId"},
		{"on a route that does not exist", callback.GetId(), &taskv1.FollowUp{RouteId: 99, AfterSeconds: 3600, Title: "x"}, "followUps[0].routeId"},
		{"on the route itself", callback.GetId(), &taskv1.FollowUp{RouteId: callback.GetId(), AfterSeconds: 3600, Title: "x"}, "followUps[0].routeId"},
		{"on a route whose tariff a person chooses", callback.GetId(), &taskv1.FollowUp{RouteId: 3, AfterSeconds: 3600, Title: "x"}, "followUps[0].routeId"},
		{"on a route with follow-ups of its own", 2, &taskv1.FollowUp{RouteId: callback.GetId(), AfterSeconds: 3600, Title: "x"}, "followUps[0].routeId"},
		{"from a route another route's follow-ups open", welcome, &taskv1.FollowUp{RouteId: 2, AfterSeconds: 3600, Title: "x"}, "followUps"},
		{"sooner than a minute", callback.GetId(), &taskv1.FollowUp{RouteId: 2, AfterSeconds: 59, Title: "x"}, "followUps[0].afterSeconds"},
		{"later than 366 days", callback.GetId(), &taskv1.FollowUp{RouteId: 2, AfterSeconds: 366*24*3600 + 1, Title: "x"}, "followUps[0].afterSeconds"},
		{"without a title", callback.GetId(), &taskv1.FollowUp{RouteId: 2, AfterSeconds: 3600, Title: "  "}, "followUps[0].title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := f.client.GetRoute(admin(), &taskv1.GetRouteRequest{Id: tc.id})
			if err != nil {
				t.Fatal(err)
			}
			edit := r.GetRoute()
			edit.FollowUps = []*taskv1.FollowUp{tc.up}
			_, err = f.client.UpdateRoute(admin(), &taskv1.UpdateRouteRequest{Route: edit})
			if status.Code(err) != codes.InvalidArgument || !slices.Contains(servicetest.Fields(err), tc.field) {
				t.Fatalf("got %v naming %v, want InvalidArgument naming %s", err, servicetest.Fields(err), tc.field)
			}
			after, _ := f.client.GetRoute(admin(), &taskv1.GetRouteRequest{Id: tc.id})
			if after.GetRoute().GetVersion() != r.GetRoute().GetVersion() {
				t.Fatalf("a refused edit made version %d", after.GetRoute().GetVersion())
			}
		})
	}
}
