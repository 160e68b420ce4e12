package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	// Registered so the error details services send (BadRequest, ErrorInfo)
	// can be written as JSON.
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/telecomcrm/crm/gateway/openapi"
	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/auth/sessioncache"
	"github.com/telecomcrm/crm/services/platform/grpcclient"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/services/platform/metrics"
	"github.com/telecomcrm/crm/services/platform/mtls"
	"github.com/telecomcrm/crm/services/platform/requestid"
	"github.com/telecomcrm/crm/services/platform/tracing"
)

// maxBody bounds a request body; no API call needs more.
const maxBody = 1 << 20

// apiTimeout bounds an API call, so a stuck backend cannot hold a request
// (and the idempotency key it claimed) longer.
const apiTimeout = 80 * time.Second

// clientAddressHeader tells the identity service where a login came from.
const clientAddressHeader = "x-crm-client-address"

// New builds the gateway's handler. The returned function closes the
// backend connections.
func New(ctx context.Context, cfg Config, key []byte, log *slog.Logger) (http.Handler, func(), error) {
	proxies, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, nil, err
	}
	ui, err := newTemporalUI(cfg, key, proxies, log)
	if err != nil {
		return nil, nil, err
	}
	id, err := mtls.LoadFor(Name, cfg.TLS, log)
	if err != nil {
		return nil, nil, err
	}
	keys := auth.NewKeyring(key)
	idConn, err := grpcclient.Dialer{Forward: auth.NewForwarder(keys, Name), TLS: id}.Dial("identity", cfg.Endpoints.Identity)
	if err != nil {
		return nil, nil, err
	}
	idClient := identityv1.NewIdentityServiceClient(idConn)
	sessions, err := sessioncache.New(idClient, sessioncache.Config{Size: cfg.SessionCacheSize, TTL: cfg.SessionCacheTTL}, log)
	if err != nil {
		idConn.Close()
		return nil, nil, err
	}
	// The cache keeps sessions only while it follows identity's
	// revocations, until ctx ends or the backends are closed.
	watchCtx, stopWatching := context.WithCancel(ctx)
	watching := make(chan struct{})
	go func() { defer close(watching); sessions.Watch(watchCtx) }()
	closeIdentity := func() {
		stopWatching()
		<-watching
		idConn.Close()
	}
	authn := &authenticator{identity: sessions, log: log}

	onError := errorHandler(log)
	gw := runtime.NewServeMux(
		runtime.WithErrorHandler(onError),
		runtime.WithRoutingErrorHandler(routingErrorHandler(onError)),
		// A form-encoded POST must not stand in for a GET.
		runtime.WithDisablePathLengthFallback(),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
		runtime.SetQueryParameterParser(strictQuery{}),
		// Nothing the client sends becomes metadata by itself; what the
		// backends see is set below.
		runtime.WithIncomingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithOutgoingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithMetadata(func(ctx context.Context, r *http.Request) metadata.MD {
			md := metadata.Pairs(requestid.Header, requestid.From(ctx), clientAddressHeader, clientAddress(r, proxies))
			if key := r.Header.Get(idempotencyKeyHeader); key != "" && !safeMethod(r.Method) {
				md.Set(idempotency.Header, key)
			}
			return md
		}),
	)
	conns, err := dialBackends(ctx, grpcclient.Dialer{Forward: auth.NewRelay(keys), TLS: id}, cfg.Endpoints, gw)
	if err != nil {
		closeIdentity()
		return nil, nil, err
	}
	doc, err := openapi.Merged()
	if err != nil {
		closeIdentity()
		closeAll(conns)
		return nil, nil, err
	}

	// Each handler is counted and timed under its own label; /metrics
	// serves the process's registry (the gRPC client figures of the calls
	// to the services included).
	m := metrics.Default()
	mux := http.NewServeMux()
	mux.Handle("/api/", m.InstrumentHTTP("api", checkInput(bounded(authn.middleware(gw)))))
	mountAttachments(mux, m, authn, taskv1.NewAttachmentServiceClient(conns["task"]), cfg.AttachmentMaxBytes, log)
	mountImports(mux, m, authn, contractv1.NewImportServiceClient(conns["contract"]), cfg.ImportMaxBytes, log)
	mountExports(mux, m, authn, conns, cfg.Locale, log)
	ui.mount(mux, m, idClient)
	mux.Handle("GET /api/v1/openapi.json", m.InstrumentHTTP("openapi", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	})))
	mux.Handle("GET /healthz", m.InstrumentHTTP("healthz", healthHandler(conns)))
	if cfg.MetricsAddr == "" {
		// Only the local stack: deployments serve metrics on their own
		// listener (CRM_METRICS_ADDR), out of the public's reach.
		mux.Handle("GET /metrics", m.Handler())
	} else {
		mux.Handle("GET /metrics", http.NotFoundHandler())
	}
	mux.Handle("GET /console-config.json", m.InstrumentHTTP("console-config", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// what the console needs to know of its surroundings, before sign-in
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		json.NewEncoder(w).Encode(consoleSettings(cfg))
	})))
	mux.Handle("/", m.InstrumentHTTP("console", consoleHandler(cfg.ConsoleDir)))
	h := securityHeaders(proxies, withRequestID(mux))
	return tracing.HTTP("gateway", h), func() { closeIdentity(); closeAll(conns) }, nil
}

func bounded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withRequestID gives every request an id (the client's X-Request-Id when
// sane) and answers it back.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestid.Header)
		if id == "" || len(id) > 64 {
			id = requestid.New()
		}
		w.Header().Set(requestid.Header, id)
		next.ServeHTTP(w, r.WithContext(requestid.With(r.Context(), id)))
	})
}

// healthHandler answers 200 when every backend reports SERVING.
func healthHandler(conns map[string]*grpc.ClientConn) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		report := map[string]string{}
		ok := true
		for name, conn := range conns {
			resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			switch {
			case err != nil:
				report[name], ok = "unreachable", false
			case resp.GetStatus() != healthpb.HealthCheckResponse_SERVING:
				report[name], ok = resp.GetStatus().String(), false
			default:
				report[name] = "serving"
			}
		}
		status := "ok"
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			status = "degraded"
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(map[string]any{"status": status, "services": report})
	})
}
