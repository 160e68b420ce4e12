// Package notifier is the notifier service: it tells people through the
// Telegram bot what happens to tasks, and lets them act on tasks from the
// chat.
//
// The task service hands over each task event with one small insert into
// the notifier's outbox (EnqueueTaskEvent). In the background the expander
// asks the identity service whom to tell and writes one delivery per
// (event, recipient); the sender drains the deliveries within Telegram's
// limits, retrying while Telegram is slow or down. Everything waits in the
// notifier's own tables, so nothing is lost when the notifier or Telegram
// restarts.
//
// The bot part (sending, commands, buttons, replies) runs only when a bot
// token is configured; without one every message is recorded as skipped.
package notifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // the zones, whatever the machine has

	"golang.org/x/sync/errgroup"
	tele "gopkg.in/telebot.v3"
	"gorm.io/gorm"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/notifier/sms"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/bootstrap"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/metrics"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/services/platform/process"
)

// Name is the service's name in logs, its SQLite file and its schema.
const Name = "notifier"

// Config is the notifier's configuration.
type Config struct {
	config.Common
	// TelegramToken is the bot's token from @BotFather; unset: no bot, and
	// every message is recorded as skipped.
	TelegramToken string `env:"CRM_TELEGRAM_TOKEN"`
	// TelegramAPIURL is the Bot API's address (a local fake in tests).
	TelegramAPIURL string `env:"CRM_TELEGRAM_API_URL" envDefault:"https://api.telegram.org"`
	// PublicURL is the console's address as people reach it; messages link
	// to <PublicURL>/tasks/<id>. Unset: http:// + CRM_HTTP_ADDR.
	PublicURL string `env:"CRM_PUBLIC_URL"`
	HTTPAddr  string `env:"CRM_HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	// WebhookURL switches from long polling to a webhook: the public HTTPS
	// address Telegram posts updates to.
	WebhookURL string `env:"CRM_TELEGRAM_WEBHOOK_URL"`
	// WebhookSecret is the secret Telegram sends with every webhook call
	// (32-256 characters of A-Z, a-z, 0-9, _ and -); required with a webhook.
	WebhookSecret string `env:"CRM_TELEGRAM_WEBHOOK_SECRET"`
	// WebhookListen is where the webhook is served (behind the proxy that
	// WebhookURL reaches).
	WebhookListen string `env:"CRM_TELEGRAM_WEBHOOK_ADDR" envDefault:"127.0.0.1:8443"`
	// TelegramRate is messages a second over all chats; TelegramChatInterval
	// the least time between two messages to one chat (Telegram's limits;
	// raise them only against a test API).
	TelegramRate         float64       `env:"CRM_TELEGRAM_RATE" envDefault:"30"`
	TelegramChatInterval time.Duration `env:"CRM_TELEGRAM_CHAT_INTERVAL" envDefault:"1s"`
	// Retention is how long finished messages are kept (replies to older
	// notifications are not recognised); their counts stay in the figures.
	Retention time.Duration `env:"CRM_NOTIFIER_RETENTION" envDefault:"720h"`
	// Locale is the language of messages to a reader whose own is not
	// known or not in the catalog (ru or en).
	Locale string `env:"CRM_LOCALE" envDefault:"ru"`
	// TimeZone is the zone of the technicians' day (/today, /tomorrow)
	// and of the visit times the bot writes.
	TimeZone string `env:"CRM_TIME_ZONE" envDefault:"Europe/Moscow"`
	// SMSProvider sends the customers' SMS: "smsru" (SMS.ru's API), or
	// unset for none (customers without Telegram are then not told).
	SMSProvider string `env:"CRM_SMS_PROVIDER"`
	// SMSAPIURL is the provider's address (a local fake in tests).
	SMSAPIURL string `env:"CRM_SMS_API_URL"`
	SMSAPIKey string `env:"CRM_SMS_API_KEY"`
	// SMSSender is the sender name approved with the provider.
	SMSSender string `env:"CRM_SMS_SENDER"`
	// SMSRate is messages a second to the provider.
	SMSRate float64 `env:"CRM_SMS_RATE" envDefault:"5"`
	// QuietHours is when no SMS goes out, in CRM_TIME_ZONE ("21:00-09:00");
	// urgent ones (the technician is on the way) go all the same. Empty:
	// none.
	QuietHours string `env:"CRM_CUSTOMER_QUIET_HOURS" envDefault:"21:00-09:00"`
	// OfficePhone is the number a customer the bot cannot match is asked
	// to call.
	OfficePhone string `env:"CRM_OFFICE_PHONE"`

	// The settings below are not read from the environment: zero takes
	// the default that suits Telegram, and tests scale them down.

	// GroupChatInterval is TelegramChatInterval for group chats (20
	// messages a minute).
	GroupChatInterval time.Duration
	// Workers bounds the sends in flight at once.
	Workers int
	// BackoffBase and BackoffMax shape the retries while Telegram (or the
	// identity service) fails: doubling from the base up to the cap.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// SendTimeout bounds one call to Telegram.
	SendTimeout time.Duration
	// PollTimeout is the long poll's wait for updates.
	PollTimeout time.Duration
	// HandlerTimeout bounds the work on one update (a button press).
	HandlerTimeout time.Duration
	// IdleWait is the longest the background loops sleep without news.
	IdleWait time.Duration
}

// defaults fills what is unset: the public address from HTTPAddr, and the
// limits and timings that suit Telegram.
func (c *Config) defaults() {
	c.TelegramToken = strings.TrimSpace(c.TelegramToken)
	if c.PublicURL == "" && c.HTTPAddr != "" {
		c.PublicURL = "http://" + c.HTTPAddr
	}
	if c.Locale == "" {
		c.Locale = defaultLocale
	}
	if c.TimeZone == "" {
		c.TimeZone = defaultTimeZone
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.TelegramChatInterval, time.Second)
	def(&c.GroupChatInterval, 3*time.Second)
	def(&c.BackoffBase, time.Second)
	def(&c.BackoffMax, 5*time.Minute)
	def(&c.SendTimeout, 20*time.Second)
	def(&c.PollTimeout, 25*time.Second)
	def(&c.HandlerTimeout, 30*time.Second)
	def(&c.IdleWait, 5*time.Second)
	def(&c.Retention, 30*24*time.Hour)
	if c.TelegramRate <= 0 {
		c.TelegramRate = 30
	}
	if c.SMSRate <= 0 {
		c.SMSRate = 5
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.TelegramAPIURL == "" {
		c.TelegramAPIURL = DefaultTelegramAPIURL
	}
}

// webhookSecretRx is what Telegram accepts as a secret_token, at least 32
// characters long so it cannot be guessed.
var webhookSecretRx = regexp.MustCompile(`^[A-Za-z0-9_-]{32,256}$`)

func (c *Config) check() error {
	if messages.supported(c.Locale) != c.Locale {
		return fmt.Errorf("configuration: CRM_LOCALE must be a language of the message catalog (ru or en), not %q", c.Locale)
	}
	if err := c.checkSMS(); err != nil {
		return err
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return fmt.Errorf("configuration: CRM_TIME_ZONE must be an IANA time zone such as Europe/Moscow, not %q", c.TimeZone)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("configuration: CRM_PUBLIC_URL must be an http(s) address, not %q", c.PublicURL)
		}
	}
	if _, err := url.Parse(c.TelegramAPIURL); err != nil {
		return fmt.Errorf("configuration: CRM_TELEGRAM_API_URL is not a URL: %w", err)
	}
	if c.WebhookURL == "" || c.TelegramToken == "" {
		return nil
	}
	u, err := url.Parse(c.WebhookURL)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("configuration: CRM_TELEGRAM_WEBHOOK_URL must be the public https address of the webhook, not %q", c.WebhookURL)
	}
	if !webhookSecretRx.MatchString(c.WebhookSecret) {
		return fmt.Errorf("configuration: CRM_TELEGRAM_WEBHOOK_SECRET must be set with CRM_TELEGRAM_WEBHOOK_URL: 32 to 256 characters of A-Z, a-z, 0-9, _ and - (e.g. openssl rand -hex 32); it has %d", len(c.WebhookSecret))
	}
	if c.WebhookListen == "" {
		return errors.New("configuration: CRM_TELEGRAM_WEBHOOK_ADDR must say where to serve the webhook")
	}
	return nil
}

// Deps are the services the notifier asks. Calls to Tasks made as a user
// carry that user (Forwarder.AsUser); the forwarder must be the one the
// connections were dialled with.
type Deps struct {
	Identity identityv1.IdentityServiceClient
	Tasks    taskv1.TaskServiceClient
	// Visits answers the technicians' /today and /tomorrow and takes their
	// reports (nil: the bot says the service is not answering).
	Visits taskv1.VisitServiceClient
	// Customers gives a customer's numbers and matches a shared contact
	// (nil: no SMS, no customer links).
	Customers customerv1.CustomerServiceClient
	// Contracts lists a customer's contracts for their requests in the
	// chat (nil: the bot takes no requests).
	Contracts contractv1.ContractServiceClient
	// SMS sends the customers' text messages (nil: made from the
	// configuration; none when CRM_SMS_PROVIDER is unset).
	SMS sms.Provider
	// Key signs page tokens.
	Key       []byte
	Forwarder *auth.Forwarder
	// Files stores the files people send to the bot (nil: refused).
	Files taskv1.AttachmentServiceClient
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Log receives what happens; nil discards.
	Log *slog.Logger
}

// Service is the notifier: its gRPC API, the expander, the sender and the
// bot.
type Service struct {
	cfg       Config
	now       func() time.Time
	log       *slog.Logger
	store     *store
	identity  identityv1.IdentityServiceClient
	tasks     taskv1.TaskServiceClient
	visits    taskv1.VisitServiceClient
	customers customerv1.CustomerServiceClient
	contracts contractv1.ContractServiceClient
	sms       sms.Provider
	pages     *pagetoken.Codec
	fwd       *auth.Forwarder
	zone      *time.Location
	files     taskv1.AttachmentServiceClient

	wakeExpand chan struct{}
	wakeSend   chan struct{}
	wakeSMS    chan struct{}
	// wokenFor holds the chats new messages wait for since the sender
	// last looked; nil for a wake that names none.
	wokenMu  sync.Mutex
	wokenFor map[int64]bool

	// webhookAddr is where the webhook listens once it does.
	webhookAddr atomic.Pointer[string]
}

// NewService builds the service over an open, migrated database.
func NewService(db *gorm.DB, cfg Config, deps Deps) (*Service, error) {
	cfg.defaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if deps.Identity == nil || deps.Tasks == nil || deps.Forwarder == nil {
		return nil, errors.New("notifier: the identity and task clients and the forwarder are needed")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log := newRedactingLogger(deps.Log, cfg.TelegramToken)
	zone, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return nil, err
	}
	provider := deps.SMS
	if provider == nil {
		provider = cfg.smsProvider()
	}
	return &Service{
		cfg:        cfg,
		now:        deps.Now,
		log:        log,
		store:      &store{db: db, now: deps.Now},
		identity:   deps.Identity,
		tasks:      deps.Tasks,
		visits:     deps.Visits,
		customers:  deps.Customers,
		contracts:  deps.Contracts,
		sms:        provider,
		pages:      pagetoken.New(deps.Key),
		fwd:        deps.Forwarder,
		zone:       zone,
		files:      deps.Files,
		wakeExpand: make(chan struct{}, 1),
		wakeSend:   make(chan struct{}, 1),
		wakeSMS:    make(chan struct{}, 1),
	}, nil
}

// Server is the gRPC implementation.
func (s *Service) Server() *Server { return &Server{svc: s} }

// BotEnabled tells whether a bot token is configured.
func (s *Service) BotEnabled() bool { return s.cfg.TelegramToken != "" }

// Stats reads the delivery queue's figures from the tables (for
// GetDeliveryStats and the metrics).
func (s *Service) Stats(ctx context.Context) (Stats, error) { return s.store.stats(ctx) }

// wakeSender tells the sender that messages now wait for these chats.
func (s *Service) wakeSender(chats []int64) {
	s.wokenMu.Lock()
	if s.wokenFor == nil {
		s.wokenFor = map[int64]bool{}
	}
	for _, c := range chats {
		s.wokenFor[c] = true
	}
	s.wokenMu.Unlock()
	s.wake(s.wakeSend)
}

// wokenChats returns the chats the wakes since the last call named, and
// forgets them.
func (s *Service) wokenChats() map[int64]bool {
	s.wokenMu.Lock()
	defer s.wokenMu.Unlock()
	out := s.wokenFor
	s.wokenFor = nil
	return out
}

// wake nudges a background loop without waiting.
func (s *Service) wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Run runs the background work until ctx ends: the expander, the sender,
// and with a token the bot's updates (long polling, or the webhook).
func (s *Service) Run(parent context.Context) error {
	g, ctx := errgroup.WithContext(parent)
	g.Go(func() error { return s.expand(ctx) })
	var api *tele.Bot
	if s.BotEnabled() {
		var err error
		if api, err = newTelegramClient(s.cfg.TelegramAPIURL, s.cfg.TelegramToken, s.cfg.SendTimeout, nil); err != nil {
			return err
		}
		b, err := s.newChatBot(ctx)
		if err != nil {
			return err
		}
		g.Go(func() error { return b.run(ctx) })
	} else {
		s.log.Info("no bot configured (CRM_TELEGRAM_TOKEN unset): notifications are recorded as skipped")
	}
	g.Go(func() error { return newSender(s, api).run(ctx) })
	g.Go(func() error { return s.sendSMS(ctx) })
	g.Go(func() error { s.sweep(ctx); return nil })
	if err := g.Wait(); err != nil && parent.Err() == nil {
		return err
	}
	return nil
}

// sweep forgets unanswered prompts, Telegram updates past redelivery, and
// messages past the retention time, now and then.
func (s *Service) sweep(ctx context.Context) {
	purge := func(ctx context.Context) {
		if err := s.store.purgePrompts(ctx, s.now().Add(-promptTTL)); err != nil && ctx.Err() == nil {
			s.log.Warn("purging old prompts failed", "err", err)
		}
		s.forgetRequests(ctx)
		if err := s.store.purgeUpdates(ctx, s.now().Add(-updateMemory)); err != nil && ctx.Err() == nil {
			s.log.Warn("purging old Telegram updates failed", "err", err)
		}
		if n, err := s.store.purge(ctx, s.now().Add(-s.cfg.Retention)); err != nil && ctx.Err() == nil {
			s.log.Warn("purging old messages failed", "err", err)
		} else if n > 0 {
			s.log.Info("old messages purged", "count", n)
		}
	}
	purge(ctx)
	process.Every(ctx, time.Hour, purge)
}

// OpenDB opens and migrates the service's store.
func OpenDB(ctx context.Context, c config.Common, log *slog.Logger) (*gorm.DB, error) {
	return database.Open(ctx, c, Name, log, migrations)
}

// Run serves the notifier until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	open := func(ctx context.Context) (*gorm.DB, error) { return OpenDB(ctx, cfg.Common, log) }
	return bootstrap.Run(ctx, Name, cfg.Common, log, open, cfg.Endpoints.Notifier, func(boot *bootstrap.Service) error {
		identityConn, err := boot.Dial("identity", cfg.Endpoints.Identity)
		if err != nil {
			return err
		}
		taskConn, err := boot.Dial("task", cfg.Endpoints.Task)
		if err != nil {
			return err
		}
		customerConn, err := boot.Dial("customer", cfg.Endpoints.Customer)
		if err != nil {
			return err
		}
		contractConn, err := boot.Dial("contract", cfg.Endpoints.Contract)
		if err != nil {
			return err
		}
		svc, err := NewService(boot.DB, cfg, Deps{
			Identity:  identityv1.NewIdentityServiceClient(identityConn),
			Tasks:     taskv1.NewTaskServiceClient(taskConn),
			Visits:    taskv1.NewVisitServiceClient(taskConn),
			Customers: customerv1.NewCustomerServiceClient(customerConn),
			Contracts: contractv1.NewContractServiceClient(contractConn),
			Key:       boot.Key,
			Forwarder: boot.Forward,
			Files:     taskv1.NewAttachmentServiceClient(taskConn),
			Log:       log,
		})
		if err != nil {
			return err
		}
		stats := newStatsCollector(svc.Stats, log)
		if err := metrics.Default().Register(stats); err != nil {
			return err
		}
		boot.Defer(func() { metrics.Default().Unregister(stats) })
		notifierv1.RegisterNotifierServiceServer(boot.Server, svc.Server())
		log.Info("Telegram", "bot", svc.BotEnabled())
		boot.Go(svc.Run)
		return nil
	})
}
