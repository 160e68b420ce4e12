package notifier

import (
	"context"
	"errors"
	"html"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	tele "gopkg.in/telebot.v3"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
)

// One bot, two audiences: a chat linked to a staff account (a code from
// the console) is staff's; any other private chat is a customer's. A
// customer links by sharing their own contact with Telegram's contact
// button; the number must be one a customer holds (numbers are unique), so
// no code is needed. STOP turns a customer's messages off, START on again.

// stopWords and startWords are what a customer writes to opt out and in.
var (
	stopWords  = []string{"stop", "стоп", "/stop"}
	startWords = []string{"start", "старт"}
)

// shareContact is the keyboard that asks for the customer's number.
func shareContact(l string) *tele.ReplyMarkup {
	return &tele.ReplyMarkup{
		ReplyKeyboard:   [][]tele.ReplyButton{{{Text: say(l, "cust.share"), Contact: true}}},
		ResizeKeyboard:  true,
		OneTimeKeyboard: true,
	}
}

// greet answers /start without a code: a customer's chat is offered the
// contact button, with a word for staff on where codes come from.
func (b *chatBot) greet(ctx context.Context, c tele.Context, l string) {
	cust, err := b.svc.store.chatCustomer(ctx, c.Chat().ID)
	if err != nil {
		b.svc.log.Warn("reading a customer chat failed", "err", err)
	}
	if cust != nil {
		b.send(c, say(b.svc.cfg.readerLang(cust.Language), "cust.hint"))
		return
	}
	b.send(c, say(l, "start.nocode"), &tele.SendOptions{ReplyMarkup: shareContact(l)})
}

// onContact links a customer's chat by the number they shared.
func (b *chatBot) onContact(c tele.Context) error {
	if !private(c) {
		return nil
	}
	ctx, cancel := b.ctx()
	defer cancel()
	l := b.svc.cfg.telegramLang(c.Sender())
	contact := c.Message().Contact
	remove := &tele.SendOptions{ReplyMarkup: &tele.ReplyMarkup{RemoveKeyboard: true}}
	if contact == nil || c.Sender() == nil || contact.UserID != c.Sender().ID {
		b.send(c, say(l, "cust.notown"), &tele.SendOptions{ReplyMarkup: shareContact(l)})
		return nil
	}
	if _, err := b.linked(ctx, c.Chat().ID); err == nil {
		b.send(c, say(l, "cust.staff"), remove)
		return nil
	} else if !errors.Is(err, errNotLinked) {
		b.send(c, say(l, "unavailable"))
		return nil
	}
	if b.svc.customers == nil {
		b.send(c, say(l, "unavailable"))
		return nil
	}
	number := strings.TrimSpace(contact.PhoneNumber)
	if number != "" && !strings.HasPrefix(number, "+") {
		// Telegram sends the number without its plus
		number = "+" + number
	}
	resp, err := b.svc.customers.FindCustomerByPhone(ctx, &customerv1.FindCustomerByPhoneRequest{Number: number})
	switch status.Code(err) {
	case codes.OK:
	case codes.NotFound, codes.InvalidArgument:
		b.send(c, b.callOffice(l, "cust.unknown", html.EscapeString(number)), remove)
		return nil
	default:
		b.svc.log.Warn("matching a shared contact failed", "err", err)
		b.send(c, say(l, "unavailable"))
		return nil
	}
	cust := resp.GetCustomer()
	lang := ""
	if c.Sender() != nil {
		lang = messages.supported(c.Sender().LanguageCode)
	}
	if err := b.svc.store.linkCustomer(ctx, &customerChatRow{CustomerID: cust.GetId(), ChatID: c.Chat().ID, Phone: clip(number, 32), Language: lang}); err != nil {
		b.svc.log.Warn("linking a customer chat failed", "err", err)
		b.send(c, say(l, "err.failed"))
		return nil
	}
	b.send(c, say(l, "cust.linked", html.EscapeString(cust.GetName())), remove)
	return nil
}

// customerText answers what a customer (or a stranger) writes: STOP and
// START switch the chat's messages; anything else is a request.
func (b *chatBot) customerText(ctx context.Context, c tele.Context, text string) {
	l := b.svc.cfg.telegramLang(c.Sender())
	cust, err := b.svc.store.chatCustomer(ctx, c.Chat().ID)
	if err != nil {
		b.svc.log.Warn("reading a customer chat failed", "err", err)
		b.send(c, say(l, "err.failed"))
		return
	}
	if cust == nil {
		b.send(c, say(l, "start.nocode"), &tele.SendOptions{ReplyMarkup: shareContact(l)})
		return
	}
	if cust.Language != "" {
		l = cust.Language
	}
	word := strings.ToLower(strings.TrimSpace(text))
	switch {
	case slices.Contains(stopWords, word):
		if err := b.svc.store.setOptOut(ctx, cust.CustomerID, channelTelegram, true); err != nil {
			b.send(c, say(l, "err.failed"))
			return
		}
		b.send(c, say(l, "cust.stop"))
	case slices.Contains(startWords, word):
		if err := b.svc.store.setOptOut(ctx, cust.CustomerID, channelTelegram, false); err != nil {
			b.send(c, say(l, "err.failed"))
			return
		}
		b.send(c, say(l, "cust.start"))
	case word == "" || word == "/start" || word == "/help":
		b.send(c, say(l, "cust.hint"))
	case strings.HasPrefix(word, "/new"):
		b.newRequest(ctx, c, cust, l, strings.TrimSpace(strings.TrimSpace(text)[len("/new"):]))
	default:
		if !b.toOpenRequest(ctx, c, cust, l, strings.TrimSpace(text)) {
			b.newRequest(ctx, c, cust, l, strings.TrimSpace(text))
		}
	}
}
