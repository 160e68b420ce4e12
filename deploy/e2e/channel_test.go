package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/deploy/stacktest"
	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
	"github.com/telecomcrm/crm/services/platform/servicetest/smsrufake"
)

const customerChat = int64(5559001)

type customerMessage struct {
	Channel   string `json:"channel"`
	Milestone string `json:"milestone"`
	Text      string `json:"text"`
	State     string `json:"state"`
}

func TestTheCustomerHearsOfTheContractBySMSAndOfTheVisitInTheChatTheyLinked(t *testing.T) {
	t.Parallel()
	provider, err := smsrufake.New("e2e-sms-key")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(provider.Close)
	f := newField(t, "1h",
		stacktest.WithEnv("CRM_SMS_PROVIDER", "smsru"),
		stacktest.WithEnv("CRM_SMS_API_URL", provider.URL()),
		stacktest.WithEnv("CRM_SMS_API_KEY", "e2e-sms-key"),
		stacktest.WithEnv("CRM_SMS_SENDER", "TelecomCRM"),
		// the test runs at any hour
		stacktest.WithEnv("CRM_CUSTOMER_QUIET_HOURS", "none"),
	)
	_, tk := f.contract()
	number := strings.TrimPrefix(f.customerNumber(tk.CustomerID), "+")

	// the new contract: an SMS, the customer having no chat linked
	f.within(30*time.Second, "the contract's SMS", func() bool { return len(provider.SentTo(number)) == 1 })
	if sms := provider.SentTo(number)[0]; !strings.Contains(sms.Text, "открыт") || sms.From != "TelecomCRM" {
		t.Fatalf("the SMS %+v", sms)
	}

	// the customer links their chat by sharing their own contact
	f.tg.Push(botapifake.Text(customerChat, "ru", "/start", 0))
	f.within(30*time.Second, "the contact button", func() bool {
		sent := f.tg.SentTo(customerChat)
		return len(sent) == 1 && strings.Contains(sent[0].Markup, "request_contact")
	})
	f.tg.Push(botapifake.Contact(customerChat, "ru", number, customerChat))
	f.within(30*time.Second, "the link's answer", func() bool {
		sent := f.tg.SentTo(customerChat)
		return len(sent) == 2 && strings.Contains(sent[1].Text, "Спасибо")
	})

	// the visit booked: told in the chat, not by SMS
	for !f.task(f.admin, tk.ID).CurrentProcess.Visit {
		f.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{"processId": tk.CurrentProcess.ID}, &tk)
		tk = f.task(f.admin, tk.ID)
	}
	f.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":bookVisit", map[string]any{
		"startTime": tomorrowAt(10).Format(time.RFC3339), "endTime": tomorrowAt(12).Format(time.RFC3339), "technicianIds": []string{f.techID},
	}, nil)
	f.within(30*time.Second, "the visit in the customer's chat", func() bool {
		sent := f.tg.SentTo(customerChat)
		return len(sent) == 3 && strings.Contains(sent[2].Text, "с 10:00 до 12:00") && strings.Contains(sent[2].Text, tk.Number)
	})
	if got := len(provider.SentTo(number)); got != 1 {
		t.Fatalf("%d SMS; the linked customer was texted about the visit too", got)
	}

	var log struct {
		Messages []customerMessage `json:"messages"`
	}
	f.within(30*time.Second, "the customer's log", func() bool {
		f.admin.Must(http.MethodGet, "/api/v1/customers/"+tk.CustomerID+"/messages", nil, &log)
		return len(log.Messages) == 2 && log.Messages[0].State == "sent" && log.Messages[1].State == "delivered"
	})
	if log.Messages[0].Channel != "CUSTOMER_CHANNEL_TELEGRAM" || log.Messages[0].Milestone != "visit_booked" ||
		log.Messages[1].Channel != "CUSTOMER_CHANNEL_SMS" || log.Messages[1].Milestone != "contract_opened" {
		t.Fatalf("the log %+v", log.Messages)
	}

	// an operator records the customer's wish: no more Telegram; the next
	// milestone goes by SMS
	var ch struct {
		TelegramLinked bool `json:"telegramLinked"`
		TelegramOptOut bool `json:"telegramOptOut"`
	}
	f.admin.Must(http.MethodPut, "/api/v1/customers/"+tk.CustomerID+"/channels", map[string]any{"telegramOptOut": true}, &ch)
	if !ch.TelegramLinked || !ch.TelegramOptOut {
		t.Fatalf("channels %+v", ch)
	}
	if got := f.s.Login(t, "installer", "installer-password-1").Do(http.MethodPut, "/api/v1/customers/"+tk.CustomerID+"/channels", map[string]any{}); got.Status != http.StatusForbidden {
		t.Fatalf("an engineer setting opt-outs: %d, want 403", got.Status)
	}

	// connected: the contract is active, and the customer hears it by SMS
	for tk.State == "TASK_STATE_OPEN" {
		f.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{"processId": tk.CurrentProcess.ID, "comment": "done"}, nil)
		f.within(30*time.Second, "the task moves on", func() bool {
			next := f.task(f.admin, tk.ID)
			moved := next.State != "TASK_STATE_OPEN" || next.CurrentProcess.ID != tk.CurrentProcess.ID
			tk = next
			return moved
		})
	}
	f.within(30*time.Second, "the connected SMS", func() bool {
		sent := provider.SentTo(number)
		return len(sent) == 2 && strings.Contains(sent[1].Text, "подключение завершено")
	})

	f.within(30*time.Second, "the contract active", func() bool {
		var k struct{ Status string }
		f.admin.Must(http.MethodGet, "/api/v1/contracts/"+tk.ContractID, nil, &k)
		return k.Status == "CONTRACT_STATUS_ACTIVE"
	})

	// the customer writes in the chat: a Repair task opens on their contract
	before := len(f.tg.SentTo(customerChat))
	f.tg.Push(botapifake.Text(customerChat, "ru", "Нет интернета с утра", 0))
	var ask botapifake.Message
	f.within(30*time.Second, "the request's question", func() bool {
		sent := f.tg.SentTo(customerChat)
		if len(sent) > before {
			ask = sent[before]
		}
		return strings.Contains(ask.Markup, "Нет интернета")
	})
	var kb struct {
		InlineKeyboard [][]struct {
			Text         string `json:"text"`
			CallbackData string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(ask.Markup), &kb); err != nil {
		t.Fatal(err)
	}
	f.tg.Push(botapifake.Callback(customerChat, ask, kb.InlineKeyboard[0][0].CallbackData))
	var opened string
	f.within(30*time.Second, "the request opened", func() bool {
		for _, e := range f.tg.EditsOf(customerChat, ask.MessageID) {
			opened = e.Text
		}
		return strings.Contains(opened, "открыта")
	})
	var tasks struct {
		Tasks []task `json:"tasks"`
	}
	f.admin.Must(http.MethodGet, "/api/v1/tasks?contractId="+tk.ContractID, nil, &tasks)
	var repair *task
	for i := range tasks.Tasks {
		if tasks.Tasks[i].Kind == "TASK_KIND_SERVICE" {
			repair = &tasks.Tasks[i]
		}
	}
	if repair == nil || !strings.Contains(opened, repair.Number) {
		t.Fatalf("the chat says %q; the contract's service tasks: %+v", opened, tasks.Tasks)
	}
	if got := f.task(f.admin, repair.ID); got.Description != "Нет интернета с утра" {
		t.Fatalf("the service task %+v; want the customer's words as its description", got)
	}

	// the customer's next words are a comment on it, marked as theirs
	f.tg.Push(botapifake.Text(customerChat, "ru", "Перезагрузил роутер — не помогло", 0))
	type comment struct {
		Text       string `json:"text"`
		AuthorName string `json:"authorName"`
		Audience   string `json:"audience"`
	}
	var comments struct {
		Comments []comment `json:"comments"`
	}
	f.within(30*time.Second, "the customer's comment", func() bool {
		f.admin.Must(http.MethodGet, "/api/v1/tasks/"+repair.ID+"/comments", nil, &comments)
		return len(comments.Comments) == 1
	})
	if c := comments.Comments[0]; c.Text != "Перезагрузил роутер — не помогло" || c.Audience != "COMMENT_AUDIENCE_FROM_CUSTOMER" || c.AuthorName != "Customer" {
		t.Fatalf("the customer's comment %+v", c)
	}
	// staff answer to the customer: it reaches their chat (Telegram on again)
	f.admin.Must(http.MethodPut, "/api/v1/customers/"+tk.CustomerID+"/channels", map[string]any{"telegramOptOut": false}, nil)
	f.admin.Must(http.MethodPost, "/api/v1/tasks/"+repair.ID+"/comments", map[string]any{"text": "Мастер приедет завтра", "audience": "COMMENT_AUDIENCE_TO_CUSTOMER"}, nil)
	f.within(30*time.Second, "the staff's answer in the chat", func() bool {
		sent := f.tg.SentTo(customerChat)
		return strings.Contains(sent[len(sent)-1].Text, "По вашей заявке "+repair.Number+": Мастер приедет завтра")
	})
	if got := f.admin.Do(http.MethodPost, "/api/v1/tasks/"+repair.ID+"/comments", map[string]any{"text": "forged", "audience": "COMMENT_AUDIENCE_FROM_CUSTOMER"}); got.Status != http.StatusForbidden {
		t.Fatalf("a user writing as the customer: %d, want 403", got.Status)
	}
}

// customerNumber is the first number of a customer.
func (f *field) customerNumber(id string) string {
	f.t.Helper()
	var c struct {
		Phones []struct{ Number string } `json:"phones"`
	}
	f.admin.Must(http.MethodGet, "/api/v1/customers/"+id, nil, &c)
	if len(c.Phones) == 0 {
		f.t.Fatalf("customer %s has no phone", id)
	}
	return c.Phones[0].Number
}
