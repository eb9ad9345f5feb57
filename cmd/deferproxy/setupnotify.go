package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/secret"
)

// newSetupNotifyCmd is `deferproxy setup-notify`: the event triggers that tell the proxy's dev catalog at once about
// DDL made outside the proxy (catalog/devnotify.go), printed for a DBA or applied to a database.
func newSetupNotifyCmd() *cobra.Command {
	var apply string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "setup-notify",
		Short: "print (or --apply) the event triggers that show the dev catalog changes made outside the proxy at once",
		Long: `Without them, a relation created or dropped in a dev schema by another client (psql straight to the
warehouse, a colleague, a BI tool's own connection) is seen by the proxy only when its listing expires (catalog_ttl).
With them, every DDL command in the database notifies the channel ` + catalog.NotifyChannel + `, which the proxy's catalog
connection LISTENs to, and the listing is forgotten at once. Creating event triggers takes a superuser; apply it once
per database that holds dev schemas. The SQL is idempotent.`,
		Example: `  deferproxy setup-notify > notify.sql && psql -f notify.sql "$WAREHOUSE_URL"
  deferproxy setup-notify --apply 'postgres://admin@warehouse:5432/analytics'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if apply == "" {
				_, err := fmt.Fprint(cmd.OutOrStdout(), catalog.NotifySQL)
				return err
			}
			if err := validatePostgresURL(apply); err != nil {
				return usageError{fmt.Errorf("--apply: %w", err)}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			conn, err := pgconn.Connect(ctx, apply)
			if err != nil {
				return fmt.Errorf("connect to %s: %w", secret.DSN(apply), secret.ConnError(apply, err))
			}
			defer conn.Close(context.WithoutCancel(ctx))
			if _, err := conn.Exec(ctx, catalog.NotifySQL).ReadAll(); err != nil {
				return fmt.Errorf("apply the notification triggers to %s: %w (creating event triggers takes a superuser)", secret.DSN(apply), secret.ConnError(apply, err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "installed: DDL in database %s now notifies %s; running proxies pick it up within %s\n",
				conn.ParameterStatus("database"), catalog.NotifyChannel, "30s")
			return nil
		},
	}
	cmd.Flags().StringVar(&apply, "apply", "", "PostgreSQL URL (a superuser) of the database to install the triggers in")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long connecting and applying may take")
	return cmd
}
