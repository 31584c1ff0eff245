package lake

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// AthenaQuery is one query to run on Athena.
type AthenaQuery struct {
	SQL       string
	Database  string // default database of unqualified table names
	Workgroup string
	// Output is the s3:// location of the result files; empty uses the
	// workgroup's.
	Output string
	// PollMin and PollMax bound the backoff between status polls
	// (defaults 200 ms and 5 s); the context bounds the whole wait.
	PollMin, PollMax time.Duration
}

// AthenaResult is a finished query: its rows (the first is the header) and
// what Athena says it scanned.
type AthenaResult struct {
	ID          string
	State       string
	Rows        [][]string
	ScannedByte int64
	EngineTime  time.Duration
}

// RunAthena starts q with result reuse off, waits for it with capped
// exponential backoff and reads every page of its results. A query that
// fails or is cancelled is an error carrying Athena's reason. If ctx ends
// first the query is stopped.
func RunAthena(ctx context.Context, cl *athena.Client, q AthenaQuery) (AthenaResult, error) {
	if q.Workgroup == "" {
		return AthenaResult{}, fmt.Errorf("athena: workgroup empty")
	}
	if q.PollMin <= 0 {
		q.PollMin = 200 * time.Millisecond
	}
	if q.PollMax < q.PollMin {
		q.PollMax = max(q.PollMin, 5*time.Second)
	}
	in := &athena.StartQueryExecutionInput{
		QueryString: aws.String(q.SQL),
		WorkGroup:   aws.String(q.Workgroup),
		// Reused results scan nothing and so cost nothing: a benchmark of
		// scan cost must not reuse.
		ResultReuseConfiguration: &types.ResultReuseConfiguration{
			ResultReuseByAgeConfiguration: &types.ResultReuseByAgeConfiguration{Enabled: false},
		},
	}
	if q.Database != "" {
		in.QueryExecutionContext = &types.QueryExecutionContext{Database: aws.String(q.Database)}
	}
	if q.Output != "" {
		in.ResultConfiguration = &types.ResultConfiguration{OutputLocation: aws.String(q.Output)}
	}
	start, err := cl.StartQueryExecution(ctx, in)
	if err != nil {
		return AthenaResult{}, fmt.Errorf("athena: start query in workgroup %s: %w", q.Workgroup, err)
	}
	res := AthenaResult{ID: aws.ToString(start.QueryExecutionId)}
	wait := q.PollMin
	for {
		out, err := cl.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: &res.ID})
		if err != nil {
			stopAthena(ctx, cl, res.ID)
			return res, fmt.Errorf("athena: status of query %s: %w", res.ID, err)
		}
		qe := out.QueryExecution
		if qe == nil || qe.Status == nil {
			return res, fmt.Errorf("athena: query %s: no status in the response", res.ID)
		}
		res.State = string(qe.Status.State)
		if st := qe.Statistics; st != nil {
			res.ScannedByte = aws.ToInt64(st.DataScannedInBytes)
			res.EngineTime = time.Duration(aws.ToInt64(st.EngineExecutionTimeInMillis)) * time.Millisecond
		}
		switch qe.Status.State {
		case types.QueryExecutionStateSucceeded:
			return res, readAthenaRows(ctx, cl, &res)
		case types.QueryExecutionStateFailed, types.QueryExecutionStateCancelled:
			return res, fmt.Errorf("athena: query %s %s: %s", res.ID, res.State, aws.ToString(qe.Status.StateChangeReason))
		}
		select {
		case <-ctx.Done():
			stopAthena(ctx, cl, res.ID)
			return res, fmt.Errorf("athena: waiting for query %s (%s): %w", res.ID, res.State, context.Cause(ctx))
		case <-time.After(wait):
		}
		wait = min(wait*2, q.PollMax)
	}
}

// stopAthena stops a query whose wait was abandoned, so it is not billed
// further; best effort, with its own short deadline.
func stopAthena(parent context.Context, cl *athena.Client, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), 10*time.Second)
	defer cancel()
	_, _ = cl.StopQueryExecution(ctx, &athena.StopQueryExecutionInput{QueryExecutionId: &id})
}

func readAthenaRows(ctx context.Context, cl *athena.Client, res *AthenaResult) error {
	pages := athena.NewGetQueryResultsPaginator(cl, &athena.GetQueryResultsInput{QueryExecutionId: &res.ID})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("athena: results of query %s: %w", res.ID, err)
		}
		if page.ResultSet == nil {
			continue
		}
		for _, r := range page.ResultSet.Rows {
			row := make([]string, len(r.Data))
			for i, d := range r.Data {
				row[i] = aws.ToString(d.VarCharValue)
			}
			res.Rows = append(res.Rows, row)
		}
	}
	return nil
}
