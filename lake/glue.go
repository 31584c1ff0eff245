package lake

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// TableInput is t as the Glue API's table definition: the same columns,
// partition keys, SerDe, location and properties as DDL.
func (t Table) TableInput() *types.TableInput {
	lib, in, out := t.SerDe()
	serdeParams := map[string]string{}
	if !t.Parquet() {
		serdeParams["ignore.malformed.json"] = "false"
	} else {
		serdeParams["serialization.format"] = "1"
	}
	params := t.Properties()
	params["EXTERNAL"] = "TRUE"
	return &types.TableInput{
		Name:          aws.String(t.Name),
		TableType:     aws.String("EXTERNAL_TABLE"),
		Parameters:    params,
		PartitionKeys: glueColumns(t.PartitionKeys()),
		StorageDescriptor: &types.StorageDescriptor{
			Columns:      glueColumns(t.Columns()),
			Location:     aws.String(t.Location()),
			InputFormat:  aws.String(in),
			OutputFormat: aws.String(out),
			SerdeInfo:    &types.SerDeInfo{SerializationLibrary: aws.String(lib), Parameters: serdeParams},
		},
	}
}

func glueColumns(cols []Column) []types.Column {
	out := make([]types.Column, len(cols))
	for i, c := range cols {
		out[i] = types.Column{Name: aws.String(c.Name), Type: aws.String(c.Type)}
	}
	return out
}

// EnsureGlue creates t's database unless it exists, then creates t's table,
// or updates it to t's definition if it exists. created reports whether the
// table was new.
func EnsureGlue(ctx context.Context, cl *glue.Client, t Table) (created bool, err error) {
	if err := t.Validate(); err != nil {
		return false, err
	}
	if _, err := cl.GetDatabase(ctx, &glue.GetDatabaseInput{Name: &t.Database}); err != nil {
		var nf *types.EntityNotFoundException
		if !errors.As(err, &nf) {
			return false, fmt.Errorf("glue: get database %s: %w", t.Database, err)
		}
		if _, err := cl.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &types.DatabaseInput{
			Name: &t.Database, Description: aws.String("tickbench landed ticks"),
		}}); err != nil {
			var exists *types.AlreadyExistsException
			if !errors.As(err, &exists) {
				return false, fmt.Errorf("glue: create database %s: %w", t.Database, err)
			}
		}
	}
	in := t.TableInput()
	_, err = cl.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: &t.Database, TableInput: in})
	if err == nil {
		return true, nil
	}
	var exists *types.AlreadyExistsException
	if !errors.As(err, &exists) {
		return false, fmt.Errorf("glue: create table %s.%s: %w", t.Database, t.Name, err)
	}
	if _, err := cl.UpdateTable(ctx, &glue.UpdateTableInput{DatabaseName: &t.Database, TableInput: in}); err != nil {
		return false, fmt.Errorf("glue: update table %s.%s: %w", t.Database, t.Name, err)
	}
	return false, nil
}

// GlueTable reads a table back from Glue as a Table, for comparison with the
// definition it was created from. Bucket, Prefix, Format and Layout are not
// recovered; the columns, partition keys, SerDe, location and properties
// are returned as Glue holds them.
type GlueTable struct {
	Columns, PartitionKeys []Column
	SerDe, Input, Output   string
	SerDeParams            map[string]string
	Location               string
	Parameters             map[string]string
}

// GetGlue reads table db.name from Glue.
func GetGlue(ctx context.Context, cl *glue.Client, db, name string) (GlueTable, error) {
	out, err := cl.GetTable(ctx, &glue.GetTableInput{DatabaseName: &db, Name: &name})
	if err != nil {
		return GlueTable{}, fmt.Errorf("glue: get table %s.%s: %w", db, name, err)
	}
	tb := out.Table
	if tb == nil || tb.StorageDescriptor == nil {
		return GlueTable{}, fmt.Errorf("glue: table %s.%s has no storage descriptor", db, name)
	}
	sd := tb.StorageDescriptor
	g := GlueTable{Columns: fromGlue(sd.Columns), PartitionKeys: fromGlue(tb.PartitionKeys),
		Input: aws.ToString(sd.InputFormat), Output: aws.ToString(sd.OutputFormat), Location: aws.ToString(sd.Location),
		Parameters: tb.Parameters}
	if sd.SerdeInfo != nil {
		g.SerDe, g.SerDeParams = aws.ToString(sd.SerdeInfo.SerializationLibrary), sd.SerdeInfo.Parameters
	}
	return g, nil
}

func fromGlue(cols []types.Column) []Column {
	var out []Column
	for _, c := range cols {
		out = append(out, Column{Name: aws.ToString(c.Name), Type: aws.ToString(c.Type)})
	}
	return out
}
