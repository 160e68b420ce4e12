package notifier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"
	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/notifier/sms"
)

// The SMS queue: customer messages by SMS wait in customer_messages and go
// out one by one within the provider's rate, never in quiet hours unless
// urgent. A temporary refusal (the provider busy or down, the network) is
// retried with backoff; a permanent one (a wrong number, the stop list) is
// recorded and not retried. A message whose answer was lost may have
// reached the provider: it is sent again and marked uncertain — the
// counted exception to "never twice", as for staff messages. After
// sending, the provider is asked what became of the message until it is
// delivered or undelivered, for two days at most.

// statusWatch is how long a sent SMS's delivery is asked after.
const statusWatch = 48 * time.Hour

func (c *Config) smsProvider() sms.Provider {
	if c.SMSProvider == "smsru" {
		return sms.NewSMSRu(c.SMSAPIURL, c.SMSAPIKey, c.SMSSender, c.SendTimeout)
	}
	return nil
}

func (c *Config) checkSMS() error {
	switch c.SMSProvider {
	case "":
	case "smsru":
		if strings.TrimSpace(c.SMSAPIKey) == "" {
			return errors.New("configuration: CRM_SMS_PROVIDER=smsru needs CRM_SMS_API_KEY (the api_id from SMS.ru's account)")
		}
	default:
		return fmt.Errorf("configuration: CRM_SMS_PROVIDER must be smsru or unset, not %q", c.SMSProvider)
	}
	if _, err := parseQuiet(c.QuietHours); err != nil {
		return err
	}
	return nil
}

// quietHours is a daily span in minutes after midnight; it may wrap
// midnight (21:00-09:00).
type quietHours struct {
	from, to int
	set      bool
}

func parseQuiet(s string) (quietHours, error) {
	s = strings.TrimSpace(s)
	// an empty variable falls back to the default; "none" says there are none
	if s == "" || strings.EqualFold(s, "none") {
		return quietHours{}, nil
	}
	bad := fmt.Errorf("configuration: CRM_CUSTOMER_QUIET_HOURS must be HH:MM-HH:MM (e.g. 21:00-09:00), not %q", s)
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return quietHours{}, bad
	}
	from, err1 := time.Parse("15:04", strings.TrimSpace(a))
	to, err2 := time.Parse("15:04", strings.TrimSpace(b))
	if err1 != nil || err2 != nil || from.Equal(to) {
		return quietHours{}, bad
	}
	return quietHours{from: from.Hour()*60 + from.Minute(), to: to.Hour()*60 + to.Minute(), set: true}, nil
}

// until tells whether t falls in the quiet hours (in zone), and when they
// end.
func (q quietHours) until(t time.Time, zone *time.Location) (time.Time, bool) {
	if !q.set {
		return time.Time{}, false
	}
	t = t.In(zone)
	m := t.Hour()*60 + t.Minute()
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, zone)
	end := func(dayOffset int) time.Time {
		return time.Date(midnight.Year(), midnight.Month(), midnight.Day()+dayOffset, q.to/60, q.to%60, 0, 0, zone)
	}
	if q.from < q.to {
		return end(0), m >= q.from && m < q.to
	}
	switch {
	case m >= q.from:
		return end(1), true
	case m < q.to:
		return end(0), true
	}
	return time.Time{}, false
}

// sendSMS drains the SMS queue until ctx ends.
func (s *Service) sendSMS(ctx context.Context) error {
	if s.sms == nil {
		return nil
	}
	quiet, _ := parseQuiet(s.cfg.QuietHours)
	limit := rate.NewLimiter(rate.Limit(s.cfg.SMSRate), 1)
	if n, err := s.store.recoverSMS(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("recovering SMS left sending failed", "err", err)
	} else if n > 0 {
		s.log.Warn("SMS left sending by the last run will be sent again", "count", n)
	}
	for ctx.Err() == nil {
		due, err := s.store.dueSMS(ctx, 20)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("reading the SMS queue failed", "err", err)
		}
		for i := range due {
			m := &due[i]
			if end, held := quiet.until(s.now(), s.zone); held && !m.Urgent {
				if err := s.store.holdSMS(ctx, m.ID, end); err != nil && ctx.Err() == nil {
					s.log.Warn("holding an SMS for the morning failed", "err", err)
				}
				continue
			}
			if err := limit.Wait(ctx); err != nil {
				return nil
			}
			s.sendOneSMS(ctx, m)
		}
		checks, err := s.store.smsToCheck(ctx, 20)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("reading the SMS to check failed", "err", err)
		}
		for i := range checks {
			if err := limit.Wait(ctx); err != nil {
				return nil
			}
			s.checkSMS(ctx, &checks[i])
		}
		if len(due) > 0 || len(checks) > 0 {
			continue
		}
		s.idle(ctx, s.wakeSMS, s.store.nextSMSAttempt)
	}
	return nil
}

func (s *Service) sendOneSMS(ctx context.Context, m *customerMessageRow) {
	if ok, err := s.store.claimSMS(ctx, m); err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			s.log.Warn("claiming an SMS failed", "err", err)
		}
		return
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	id, err := s.sms.Send(sctx, sms.Message{To: m.Address, Text: m.Text})
	cancel()
	now := s.now()
	cols := map[string]any{"updated_at": now.UnixMicro()}
	var refusal *sms.Error
	switch {
	case err == nil:
		cols["state"], cols["provider_id"], cols["sent_at"], cols["reason"] = stateSent, clip(id, 64), now.UnixMicro(), ""
		cols["status_check_at"] = now.Add(s.cfg.BackoffBase * 30).UnixMicro()
	case sms.Temporary(err):
		cols["state"], cols["reason"] = statePending, clip(err.Error(), 500)
		cols["next_attempt_at"] = now.Add(s.backoff(int(m.Attempts))).UnixMicro()
		if !errors.As(err, &refusal) {
			// the provider may have taken it before the answer was lost
			cols["uncertain"] = true
		}
		s.log.Warn("an SMS was not taken; will retry", "customer", m.CustomerID, "err", err)
	default:
		cols["state"], cols["reason"] = stateFailed, clip(err.Error(), 500)
		s.log.Warn("an SMS was refused for good", "customer", m.CustomerID, "err", err)
	}
	if err := s.store.finishSMS(ctx, m.ID, cols); err != nil && ctx.Err() == nil {
		s.log.Warn("recording an SMS's outcome failed", "err", err)
	}
}

// checkSMS asks the provider what became of a sent message.
func (s *Service) checkSMS(ctx context.Context, m *customerMessageRow) {
	sctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	st, err := s.sms.Status(sctx, m.ProviderID)
	cancel()
	now := s.now()
	cols := map[string]any{"updated_at": now.UnixMicro()}
	since := now.Sub(time.UnixMicro(m.SentAt))
	next := now.Add(min(max(since, s.cfg.BackoffBase*30), time.Hour)).UnixMicro()
	switch {
	case err != nil && sms.Temporary(err):
		cols["status_check_at"] = next
	case err != nil:
		cols["status_check_at"], cols["reason"] = int64(0), clip(err.Error(), 500)
	case st.State == sms.Delivered:
		cols["state"], cols["status_check_at"], cols["reason"] = stateDelivered, int64(0), ""
	case st.State == sms.Undelivered:
		cols["state"], cols["status_check_at"], cols["reason"] = stateUndelivered, int64(0), clip(fmt.Sprintf("%s (code %d)", st.Text, st.Code), 500)
	default:
		cols["status_check_at"] = next
	}
	if since > statusWatch {
		cols["status_check_at"] = int64(0)
	}
	if err := s.store.finishSMS(ctx, m.ID, cols); err != nil && ctx.Err() == nil {
		s.log.Warn("recording an SMS's delivery failed", "err", err)
	}
}

func (s *store) smsQueue(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Model(&customerMessageRow{}).Where("channel = ?", channelSMS)
}

func (s *store) dueSMS(ctx context.Context, n int) ([]customerMessageRow, error) {
	var rows []customerMessageRow
	err := s.smsQueue(ctx).Where("state = ? AND next_attempt_at <= ?", statePending, s.micros()).
		Order("next_attempt_at, id").Limit(n).Find(&rows).Error
	return rows, err
}

func (s *store) smsToCheck(ctx context.Context, n int) ([]customerMessageRow, error) {
	var rows []customerMessageRow
	err := s.smsQueue(ctx).Where("state = ? AND status_check_at > 0 AND status_check_at <= ?", stateSent, s.micros()).
		Order("status_check_at, id").Limit(n).Find(&rows).Error
	return rows, err
}

// nextSMSAttempt is when the queue has something to do next.
func (s *store) nextSMSAttempt(ctx context.Context) (time.Time, bool, error) {
	var next []int64
	err := s.db.WithContext(ctx).Raw(`SELECT MIN(t) FROM (
		SELECT MIN(next_attempt_at) AS t FROM customer_messages WHERE channel = ? AND state = ?
		UNION ALL SELECT MIN(status_check_at) FROM customer_messages WHERE channel = ? AND state = ? AND status_check_at > 0) x`,
		channelSMS, statePending, channelSMS, stateSent).Scan(&next).Error
	if err != nil || len(next) == 0 || next[0] == 0 {
		return time.Time{}, false, err
	}
	return time.UnixMicro(next[0]), true, nil
}

// holdSMS puts a message off to the end of the quiet hours.
func (s *store) holdSMS(ctx context.Context, id int64, until time.Time) error {
	return s.smsQueue(ctx).Where("id = ? AND state = ?", id, statePending).Updates(map[string]any{
		"next_attempt_at": until.UnixMicro(), "reason": reasonQuiet, "updated_at": s.micros(),
	}).Error
}

// claimSMS marks a message sending; false when another claimed it.
func (s *store) claimSMS(ctx context.Context, m *customerMessageRow) (bool, error) {
	res := s.smsQueue(ctx).Where("id = ? AND state = ?", m.ID, statePending).Updates(map[string]any{
		"state": stateSending, "attempts": gorm.Expr("attempts + 1"), "updated_at": s.micros(),
	})
	m.Attempts++
	return res.RowsAffected == 1, res.Error
}

func (s *store) finishSMS(ctx context.Context, id int64, cols map[string]any) error {
	return s.smsQueue(ctx).Where("id = ?", id).Updates(cols).Error
}

// recoverSMS returns messages a previous run left sending to the queue,
// marked uncertain: the provider may have taken them.
func (s *store) recoverSMS(ctx context.Context) (int64, error) {
	res := s.smsQueue(ctx).Where("state = ?", stateSending).Updates(map[string]any{
		"state": statePending, "uncertain": true, "next_attempt_at": s.micros(), "updated_at": s.micros(),
	})
	return res.RowsAffected, res.Error
}
