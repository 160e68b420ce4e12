package drill

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
	"github.com/telecomcrm/crm/services/platform/servicetest/smsrufake"
)

// process is a process of a route as the REST API shows it.
type process struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	GroupID string `json:"groupId"`
}

// Work groups of a new database (PRODUCT §6).
const (
	groupSales        = "1"
	groupProvisioning = "2"
	groupInstallers   = "3"
	groupBilling      = "4"
	groupSupport      = "5"
)

// world is what the drill works with: the people, their chats, the routes.
type world struct {
	c     *caller
	admin *user
	tg    *botapifake.Server
	// sms is the fake SMS.ru the customers are texted through.
	sms    *smsrufake.Server
	users  []*user
	group  map[string][]*user // members the drill made, by group id
	chats  map[int64]*user
	sup    *user // cancels tasks (tasks.manage)
	route1 []process
	// service is the route of the drill's service tasks.
	serviceRoute string
	service      []process
}

const drillPassword = "drill-password-1"

// setUp makes two people in each work group of route No. 1 and of the
// drill's service route (operators in Sales, engineers elsewhere) and a
// supervisor, links every one of them to a Telegram chat through the bot
// (/start CODE in the fake), and makes the service route.
func setUp(ctx context.Context, c *caller, adminPassword string, tg *botapifake.Server) (*world, error) {
	w := &world{c: c, tg: tg, group: map[string][]*user{}, chats: map[int64]*user{}}
	w.admin = &user{login: "admin", password: adminPassword}
	if err := c.login(ctx, w.admin); err != nil {
		return nil, err
	}
	var r struct {
		ID        string    `json:"id"`
		Processes []process `json:"processes"`
	}
	if err := c.call(ctx, w.admin, http.MethodGet, "/api/v1/routes/1", nil).decode(&r); err != nil {
		return nil, fmt.Errorf("reading route No. 1: %w", err)
	}
	w.route1 = r.Processes
	// Support twice, so a task comes back to a group it has been in.
	body := map[string]any{
		"name":        "Drill service visit",
		"description": "Service tasks of the fault drills",
		"processes": []map[string]any{
			{"name": "Diagnostics", "groupId": groupSupport},
			{"name": "Field work", "groupId": groupInstallers},
			{"name": "Billing check", "groupId": groupBilling},
			{"name": "Confirmation", "groupId": groupSupport},
		},
	}
	if err := c.call(ctx, w.admin, http.MethodPost, "/api/v1/routes", body).decode(&r); err != nil {
		return nil, fmt.Errorf("making the service route: %w", err)
	}
	w.serviceRoute, w.service = r.ID, r.Processes

	chat := int64(5_000_001)
	for _, g := range []string{groupSales, groupProvisioning, groupInstallers, groupBilling, groupSupport} {
		role := "engineer"
		if g == groupSales {
			role = "operator"
		}
		for _, suffix := range []string{"a", "b"} {
			u := &user{login: "drill-g" + g + "-" + suffix, role: role, groups: []string{g}, chat: chat}
			chat++
			w.users = append(w.users, u)
			w.group[g] = append(w.group[g], u)
		}
	}
	w.sup = &user{login: "drill-supervisor", role: "supervisor", chat: chat}
	w.users = append(w.users, w.sup)

	for _, u := range w.users {
		u.password = drillPassword
		var made struct {
			ID string `json:"id"`
		}
		body := map[string]any{"login": u.login, "displayName": "Drill " + u.login, "password": u.password, "roles": []string{u.role}}
		if err := c.call(ctx, w.admin, http.MethodPost, "/api/v1/users", body).decode(&made); err != nil {
			return nil, fmt.Errorf("making user %s: %w", u.login, err)
		}
		u.id = made.ID
		for _, g := range u.groups {
			if err := c.call(ctx, w.admin, http.MethodPost, "/api/v1/groups/"+g+"/members", map[string]any{"userId": u.id}).decode(nil); err != nil {
				return nil, fmt.Errorf("adding %s to group %s: %w", u.login, g, err)
			}
		}
		if err := c.login(ctx, u); err != nil {
			return nil, err
		}
		if err := w.link(ctx, u); err != nil {
			return nil, err
		}
		w.chats[u.chat] = u
	}
	return w, nil
}

// link asks the console for a code and sends /start CODE to the bot from
// the user's chat, then waits until the user shows as linked.
func (w *world) link(ctx context.Context, u *user) error {
	var code struct {
		Code string `json:"code"`
	}
	if err := w.c.call(ctx, u, http.MethodPost, "/api/v1/telegram:link", map[string]any{}).decode(&code); err != nil {
		return fmt.Errorf("a Telegram code for %s: %w", u.login, err)
	}
	w.tg.Push(botapifake.Text(u.chat, "en", "/start "+code.Code, 0))
	deadline := time.Now().Add(time.Minute)
	for {
		var me struct {
			TelegramLinked bool `json:"telegramLinked"`
		}
		if err := w.c.call(ctx, u, http.MethodGet, "/api/v1/auth/me", nil).decode(&me); err != nil {
			return err
		}
		if me.TelegramLinked {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s's chat %d is not linked a minute after /start: is the notifier polling the fake Bot API?", u.login, u.chat)
		}
		if !sleep(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// groupMembers reads every group's members (the notifier tells them), by
// group id.
func (w *world) groupMembers(ctx context.Context) (map[string][]string, error) {
	var groups struct {
		Groups []struct {
			ID string `json:"id"`
		} `json:"groups"`
	}
	if err := w.c.call(ctx, w.admin, http.MethodGet, "/api/v1/groups", nil).decode(&groups); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, g := range groups.Groups {
		var m struct {
			Members []struct {
				ID string `json:"id"`
			} `json:"members"`
		}
		if err := w.c.call(ctx, w.admin, http.MethodGet, "/api/v1/groups/"+g.ID+"/members", nil).decode(&m); err != nil {
			return nil, err
		}
		for _, x := range m.Members {
			out[g.ID] = append(out[g.ID], x.ID)
		}
	}
	return out, nil
}

func (u *user) String() string { return u.login }
