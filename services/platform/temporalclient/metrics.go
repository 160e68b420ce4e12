package temporalclient

import (
	"fmt"
	"sync"

	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"

	"github.com/telecomcrm/crm/services/platform/metrics"
)

// MetricsHandler records the Temporal SDK's figures (requests to the
// cluster, workflow and activity task latencies, poller and slot figures
// of workers) into m's registry. Call it once per registry: the exporter
// registers its collectors.
func MetricsHandler(m *metrics.Metrics) (client.MetricsHandler, error) {
	exp, err := otelprom.New(otelprom.WithRegisterer(m.Registry), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("temporal metrics: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                provider.Meter("temporal-sdk"),
		UseMonotonicCounters: true,
	}), nil
}

// processMetrics is MetricsHandler of the process's registry, made once
// for all the clients a process dials.
var processMetrics = sync.OnceValues(func() (client.MetricsHandler, error) { return MetricsHandler(metrics.Default()) })
