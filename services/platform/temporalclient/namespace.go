package temporalclient

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// EnsureNamespace registers namespace on the cluster c speaks to (keeping
// closed workflows for retention) unless it exists, adds the search
// attributes it lacks, and waits until the cluster accepts queries by
// those attributes there — a new namespace takes some seconds to be
// usable. Running it again changes nothing.
func EnsureNamespace(ctx context.Context, c client.Client, namespace string, retention time.Duration, attrs map[string]enums.IndexedValueType, wait time.Duration) error {
	_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        namespace,
		Description:                      "telecom CRM task workflows",
		WorkflowExecutionRetentionPeriod: durationpb.New(retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("registering namespace %s: %w", namespace, err)
	}
	_, err = backoff.Retry(ctx, func() (struct{}, error) {
		if err := addSearchAttributes(ctx, c, namespace, attrs); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, queryable(ctx, c, namespace, attrs)
	}, backoff.WithBackOff(backoff.NewConstantBackOff(500*time.Millisecond)), backoff.WithMaxElapsedTime(wait))
	if err != nil {
		return fmt.Errorf("namespace %s is not usable yet: %w", namespace, err)
	}
	return nil
}

func addSearchAttributes(ctx context.Context, c client.Client, namespace string, attrs map[string]enums.IndexedValueType) error {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return err
	}
	missing := map[string]enums.IndexedValueType{}
	for name, typ := range attrs {
		got, ok := have.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = typ
		case got != typ:
			return fmt.Errorf("search attribute %s is %s on namespace %s, the workflows need %s", name, got, namespace, typ)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	var exists *serviceerror.AlreadyExists
	if errors.As(err, &exists) {
		return nil
	}
	return err
}

// queryable lists workflows filtered by every attribute: it fails until
// the namespace and its attributes are known to the cluster's frontends.
func queryable(ctx context.Context, c client.Client, namespace string, attrs map[string]enums.IndexedValueType) error {
	query := ""
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		if query != "" {
			query += " AND "
		}
		query += name + " IS NULL"
	}
	_, err := c.WorkflowService().ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, PageSize: 1, Query: query})
	return err
}
