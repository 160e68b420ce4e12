// Package sms sends text messages to customers' phones through an SMS
// provider's HTTP API. Provider is what the notifier's SMS queue needs;
// SMSRu speaks SMS.ru's API (sms/send and sms/status with json=1).
//
// A provider's refusal is an *Error with the provider's code; Temporary
// tells whether sending again later may succeed (the service is busy or
// down, a per-minute limit) or never will (a wrong number, a number on the
// stop list, a wrong key, no money).
package sms

import (
	"context"
	"errors"
	"fmt"
)

// Message is one text to one phone.
type Message struct {
	// To is the number in E.164 ("+79161234567").
	To   string
	Text string
}

// State is where a sent message is.
type State int

const (
	// Queued: the provider holds it, not yet with the operator.
	Queued State = iota
	// InTransit: handed to the mobile operator.
	InTransit
	// Delivered to the phone.
	Delivered
	// Undelivered: it will not arrive (expired, rejected, no route).
	Undelivered
)

func (s State) String() string {
	return [...]string{"queued", "in transit", "delivered", "undelivered"}[s]
}

// Final tells whether the state will not change any more.
func (s State) Final() bool { return s == Delivered || s == Undelivered }

// Status is what the provider knows of a sent message.
type Status struct {
	State State
	// Code and Text are the provider's own.
	Code int
	Text string
}

// Provider sends messages and tells what became of them.
type Provider interface {
	// Name names the provider in logs and the delivery log.
	Name() string
	// Send hands one message over and returns the provider's id for it.
	Send(ctx context.Context, m Message) (id string, err error)
	// Status asks what became of a message sent before.
	Status(ctx context.Context, id string) (Status, error)
}

// Error is a provider's refusal.
type Error struct {
	Provider string
	Code     int
	Text     string
	// Temporary: the same message may go through later.
	Temporary bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s refused (code %d): %s", e.Provider, e.Code, e.Text)
}

// Temporary tells whether err may pass if the send is tried again: a
// provider's temporary refusal, or anything that is not a refusal at all
// (the network, a timeout, a 5xx).
func Temporary(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Temporary
	}
	return err != nil
}
