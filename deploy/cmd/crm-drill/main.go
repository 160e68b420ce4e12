// Command crm-drill runs the fault drills on a private stack (make
// drill-kill, drill-restart, drill-telegram, drills) and prints each
// verdict; it exits non-zero when a drill fails.
//
//	crm-drill [flags] kill|restart|telegram|all
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/telecomcrm/crm/deploy/drill"
)

func main() {
	opt := drill.Defaults()
	flag.IntVar(&opt.Tasks, "tasks", opt.Tasks, "tasks the clients open and walk")
	flag.IntVar(&opt.Clients, "clients", opt.Clients, "concurrent clients")
	flag.Int64Var(&opt.Seed, "seed", opt.Seed, "seed of the clients' and the faults' choices")
	flag.Float64Var(&opt.OpenShare, "open-share", opt.OpenShare, "share of tasks left open")
	flag.Float64Var(&opt.CancelShare, "cancel-share", opt.CancelShare, "share of tasks cancelled")
	flag.Float64Var(&opt.ReturnShare, "return-share", opt.ReturnShare, "share of tasks sent back once")
	flag.Float64Var(&opt.CommentShare, "comment-share", opt.CommentShare, "share of processes commented on before completing (completing carries a comment too)")
	flag.DurationVar(&opt.CommandTimeout, "command-timeout", opt.CommandTimeout, "how long a client keeps trying one request")
	flag.DurationVar(&opt.Settle, "settle", opt.Settle, "longest wait after the work for workflows and notifications to finish")
	flag.DurationVar(&opt.KillMin, "kill-min", opt.KillMin, "kill: least pause between kills")
	flag.DurationVar(&opt.KillMax, "kill-max", opt.KillMax, "kill: longest pause between kills")
	components := flag.String("components", strings.Join(opt.Components, ","), "kill: the components to kill")
	flag.IntVar(&opt.TemporalRestarts, "temporal-restarts", opt.TemporalRestarts, "restart: Temporal restarts")
	flag.DurationVar(&opt.TemporalDown, "temporal-down", opt.TemporalDown, "restart: how long Temporal stays down")
	flag.BoolVar(&opt.TemporalCrash, "temporal-crash", opt.TemporalCrash, "restart: kill Temporal with SIGKILL instead of stopping it")
	flag.IntVar(&opt.PostgresRestarts, "postgres-restarts", opt.PostgresRestarts, "restart: PostgreSQL restarts (0: the stack stays on SQLite)")
	flag.StringVar(&opt.PostgresBin, "postgres-bin", opt.PostgresBin, "restart: PostgreSQL's programs (initdb, pg_ctl)")
	flag.DurationVar(&opt.Outage, "outage", opt.Outage, "telegram: how long the Bot API is unreachable")
	flag.IntVar(&opt.LostAnswers, "lost-answers", opt.LostAnswers, "telegram: sends whose answer is lost, before and after the outage")
	flag.DurationVar(&opt.ChatInterval, "chat-interval", opt.ChatInterval, "the notifier's pause between messages to one chat (CRM_TELEGRAM_CHAT_INTERVAL)")
	flag.Float64Var(&opt.TelegramRate, "telegram-rate", opt.TelegramRate, "the notifier's messages per second overall (CRM_TELEGRAM_RATE)")
	verbose := flag.Bool("v", false, "print the stack's supervision messages")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: crm-drill [flags] kill|restart|telegram|all\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	opt.Components = strings.Split(*components, ",")
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	var kinds []drill.Kind
	if flag.Arg(0) == "all" {
		kinds = drill.Kinds
	} else {
		kinds = []drill.Kind{drill.Kind(flag.Arg(0))}
	}
	for _, k := range kinds {
		switch k {
		case drill.Kill, drill.Restart, drill.Telegram:
		default:
			flag.Usage()
			os.Exit(2)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, kinds, opt, *verbose))
}

func run(ctx context.Context, kinds []drill.Kind, opt drill.Options, verbose bool) int {
	began := time.Now()
	var summary []string
	failed := false
	for _, k := range kinds {
		dir, err := os.MkdirTemp("", "crm-drill-"+string(k)+"-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "crm-drill:", err)
			return 1
		}
		local := drill.LocalOptions{DataDir: filepath.Join(dir, "data"), BinDir: os.Getenv("CRM_BIN_DIR"), TemporalBin: os.Getenv("CRM_TEMPORAL_BIN")}
		if verbose {
			local.Log = os.Stderr
		}
		v, err := drill.Run(ctx, k, opt, drill.LocalStack(local), os.Stdout)
		if err != nil {
			fmt.Fprintf(os.Stderr, "crm-drill %s: %v (data in %s)\n", k, err, dir)
			summary = append(summary, fmt.Sprintf("ERROR drill %s: %v", k, err))
			failed = true
			if ctx.Err() != nil {
				break
			}
			continue
		}
		drill.KeepOrRemove(v, dir)
		if !v.Pass() {
			failed = true
		}
		summary = append(summary, v.Summary())
	}
	if len(kinds) > 1 {
		fmt.Printf("\n== drills in %s\n%s\n", time.Since(began).Round(time.Second), strings.Join(summary, "\n"))
	}
	if failed {
		return 1
	}
	return 0
}
