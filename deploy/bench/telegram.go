package bench

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/deploy/restclient"
	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
)

// The runs measure the product as its users run it: the notifier tells the
// group's members of every movement through a (fake) Telegram Bot API, at
// the notifier's production rate limits.
const (
	botToken        = "123456:bench-token"
	recipientsGroup = "5" // Support: the group of the benchmark route's processes
	recipients      = 4
)

// withTelegram starts a fake Bot API and points the stack's notifier at it.
func withTelegram(cfg *localstack.Config) (*botapifake.Server, error) {
	tg, err := botapifake.New(botToken)
	if err != nil {
		return nil, err
	}
	cfg.Env = append(cfg.Env,
		"CRM_TELEGRAM_TOKEN="+botToken,
		"CRM_TELEGRAM_API_URL="+tg.URL(),
		"CRM_TELEGRAM_BOT_USERNAME="+botapifake.BotUsername)
	return tg, nil
}

// linkRecipients makes engineers in the Support group and links each one's
// chat through the bot (/start CODE), so that every movement of a task in
// that group is queued for them.
func linkRecipients(admin *restclient.Client, tg *botapifake.Server) error {
	for i := range recipients {
		login := fmt.Sprintf("bench-support-%d", i+1)
		const password = "bench-password-1"
		var u struct{ ID string }
		if err := admin.Call(http.MethodPost, "/api/v1/users", map[string]any{"login": login, "displayName": "Bench " + login, "password": password, "roles": []string{"engineer"}}, &u); err != nil {
			return err
		}
		if err := admin.Call(http.MethodPost, "/api/v1/groups/"+recipientsGroup+"/members", map[string]any{"userId": u.ID}, nil); err != nil {
			return err
		}
		me, err := restclient.Login(admin.Base, login, password)
		if err != nil {
			return err
		}
		var code struct{ Code string }
		if err := me.Call(http.MethodPost, "/api/v1/telegram:link", map[string]any{}, &code); err != nil {
			return err
		}
		tg.Push(botapifake.Text(int64(7_000_001+i), "ru", "/start "+code.Code, 0))
		if err := waitLinked(me); err != nil {
			return fmt.Errorf("%s: %w", login, err)
		}
	}
	return nil
}

func waitLinked(me *restclient.Client) error {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var who struct{ TelegramLinked bool }
		if err := me.Call(http.MethodGet, "/api/v1/auth/me", nil, &who); err != nil {
			return err
		}
		if who.TelegramLinked {
			return nil
		}
	}
	return fmt.Errorf("the chat is not linked a minute after /start: is the notifier polling the fake Bot API?")
}

// reportTelegram says how many messages reached the fake Bot API.
func reportTelegram(out io.Writer, tg *botapifake.Server) {
	fmt.Fprintf(out, "Telegram (fake Bot API, %d linked members of group %s, the notifier's production rate limits): %d messages delivered so far\n", recipients, recipientsGroup, tg.SentCount())
}
