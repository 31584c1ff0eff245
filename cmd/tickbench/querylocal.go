package main

import (
	"context"
	"errors"
)

func runLocalQuery(ctx context.Context, sql string, tf *tableFlags, env environment) error {
	return errors.New("local query: not built yet")
}
