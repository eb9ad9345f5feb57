import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.sql.ResultSetMetaData;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.postgresql.PGStatement;

/**
 * DriverCheck runs pgjdbc (and a HikariCP pool) through deferproxy the way BI tools and IDEs do, and checks that a
 * statement the driver prepared on the server reads what a fresh statement reads while the dev relation comes and
 * goes. Run by deferral/drivers_test.go: DriverCheck <jdbc url through the proxy> <scenario>. Prints each step; exits
 * 1 with the reason on the first wrong answer.
 *
 * The dev schema dbt_fabio starts without stg_orders (production analytics.stg_orders answers 'prod'); a second
 * connection through the proxy creates it ('dev') and drops it again, as dbt run would.
 */
public class DriverCheck {
    static final String Q = "select src from dbt_fabio.stg_orders where id = ?";
    static String url;

    public static void main(String[] args) throws Exception {
        url = args[0];
        String scenario = args[1];
        if (!scenario.startsWith("catalogview")) { // the catalog view's scenarios build nothing
            ddl("drop table if exists dbt_fabio.stg_orders"); // a clean start whatever an earlier scenario left
        }
        switch (scenario) {
            case "default": prepared(new Properties(), 5); break;
            case "threshold1": prepared(props("prepareThreshold", "1"), 1); break;
            case "threshold-1": prepared(props("prepareThreshold", "-1"), 1); break;
            case "threshold0": prepared(props("prepareThreshold", "0"), 0); break;
            case "cacheEverything": cacheEverything(); break;
            case "rowtype": rowType(); break;
            case "hikari": hikari(); break;
            case "metadata": metadata(); break;
            case "catalogview": catalogViewBySet(); break;
            case "catalogviewOption": catalogViewByOption(); break;
            case "catalogviewApps": catalogViewByApps(new Properties()); break;
            case "catalogviewAppsStartup": catalogViewByApps(props("assumeMinServerVersion", "9.0")); break;
            case "catalogviewDbt": catalogViewDbt(new Properties()); break;
            case "catalogviewDbtStartup": catalogViewDbt(props("assumeMinServerVersion", "9.0")); break;
            case "catalogviewHikari": catalogViewHikari(); break;
            case "catalogviewControl": catalogViewControl(); break;
            default: fail("unknown scenario " + scenario);
        }
        System.out.println("OK " + scenario);
    }

    static Properties props(String k, String v) {
        Properties p = new Properties();
        p.setProperty(k, v);
        return p;
    }

    static Connection connect(Properties p) throws SQLException {
        Properties all = new Properties();
        all.putAll(p);
        all.setProperty("user", "postgres");
        all.setProperty("sslmode", "disable");
        all.putIfAbsent("ApplicationName", "DriverCheck");
        return DriverManager.getConnection(url, all);
    }

    static void fail(String why) {
        System.out.println("FAIL " + why);
        System.exit(1);
    }

    static void ddl(String sql) throws SQLException {
        try (Connection c = connect(new Properties()); Statement s = c.createStatement()) {
            s.execute(sql);
        }
        System.out.println("ddl: " + sql);
    }

    static void build() throws SQLException {
        ddl("create table dbt_fabio.stg_orders as select 1 as id, 'dev'::text as src");
    }

    static void dropDev() throws SQLException {
        ddl("drop table dbt_fabio.stg_orders");
    }

    static String read(PreparedStatement ps) throws SQLException {
        ps.setInt(1, 1);
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                fail("no row");
            }
            return rs.getString(1);
        }
    }

    static void expect(String step, String got, String want) {
        System.out.println(step + ": " + got);
        if (!want.equals(got)) {
            fail(step + ": read " + got + ", want " + want);
        }
    }

    /** A PreparedStatement executed past prepareThreshold (server-side S_n), then the dev relation built and dropped. */
    static void prepared(Properties p, int threshold) throws SQLException {
        try (Connection c = connect(p)) {
            PreparedStatement ps = c.prepareStatement(Q);
            for (int i = 0; i < threshold + 3; i++) {
                expect("before the dev build, run " + (i + 1), read(ps), "prod");
            }
            // prepareThreshold=0 never prepares on the server (unnamed statements, each one decided afresh).
            if (ps.unwrap(PGStatement.class).isUseServerPrepare() != (threshold != 0)) {
                fail("server-side prepare after " + (threshold + 3) + " executions: " + ps.unwrap(PGStatement.class).isUseServerPrepare());
            }
            build();
            expect("same statement after the dev build", read(ps), "dev");
            expect("again", read(ps), "dev");
            ps.close();
            // pgjdbc's statement cache hands back the server-side statement for the same SQL.
            ps = c.prepareStatement(Q);
            expect("prepared again (driver cache)", read(ps), "dev");
            dropDev();
            expect("after the dev drop", read(ps), "prod");
            expect("again", read(ps), "prod");
            // In a transaction, as IDEs with auto-commit off run them.
            c.setAutoCommit(false);
            expect("in a transaction", read(ps), "prod");
            c.commit();
            build();
            expect("in a transaction after the build", read(ps), "dev");
            c.rollback();
            c.setAutoCommit(true);
            dropDev();
            expect("after the second drop", read(ps), "prod");
        }
    }

    /** preferQueryMode=extendedCacheEverything: plain Statements are prepared on the server and cached too. */
    static void cacheEverything() throws SQLException {
        try (Connection c = connect(props("preferQueryMode", "extendedCacheEverything"))) {
            String sql = "select src from dbt_fabio.stg_orders where id = 1";
            for (int i = 0; i < 8; i++) {
                expect("before the dev build, run " + (i + 1), query(c, sql), "prod");
            }
            build();
            expect("after the dev build", query(c, sql), "dev");
            dropDev();
            expect("after the dev drop", query(c, sql), "prod");
        }
    }

    static String query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                fail("no row");
            }
            return rs.getString(1);
        }
    }

    /**
     * The dev model returns other columns than production's. The proxy answers the server-prepared statement with
     * PostgreSQL's own 0A000 "cached plan must not change result type" (routine RevalidateCachedQuery): outside a
     * transaction pgjdbc prepares the statement again and retries, so the application reads the dev relation as it is;
     * inside one (autosave off, the default) the application gets the error, and the statement reads right after the
     * rollback.
     */
    static void rowType() throws SQLException {
        try (Connection c = connect(props("prepareThreshold", "1"))) {
            PreparedStatement ps = c.prepareStatement(Q);
            for (int i = 0; i < 3; i++) {
                expect("before the dev build", read(ps), "prod");
            }
            ddl("create table dbt_fabio.stg_orders as select 1 as id, 42 as src");
            expect("other columns, autocommit (pgjdbc prepares again)", read(ps), "42");
            expect("again", read(ps), "42");
            c.setAutoCommit(false);
            expect("in a transaction", read(ps), "42");
            c.commit();
            dropDev();
            try {
                String got = read(ps);
                fail("production's columns again, in a transaction: read " + got + " without an error");
            } catch (SQLException e) {
                System.out.println("in a transaction: " + e.getSQLState() + " " + e.getMessage().split("\n")[0]);
                if (!"0A000".equals(e.getSQLState())) {
                    fail("in a transaction: SQLSTATE " + e.getSQLState() + ", want 0A000");
                }
            }
            c.rollback();
            expect("after the rollback", read(ps), "prod");
            c.commit();
        }
    }

    /**
     * An IDE's schema tree for the dev schema (DatabaseMetaData, as DBeaver and DataGrip call it): tables, columns,
     * primary keys and indexes all describe dbt_fabio as it is — stg_customers, built in dev — and none of them
     * borrows production's stg_payments (which has a primary key and an index there). The test set the keys up.
     */
    static void metadata() throws SQLException {
        try (Connection c = connect(new Properties())) {
            DatabaseMetaData md = c.getMetaData();
            expect("getTables", names(md.getTables(null, "dbt_fabio", "%", new String[] {"TABLE", "VIEW"}), "TABLE_NAME"), "[stg_customers]");
            expect("getColumns", names(md.getColumns(null, "dbt_fabio", "%", "%"), "TABLE_NAME"), "[stg_customers]");
            expect("getPrimaryKeys of a dev table", names(md.getPrimaryKeys(null, "dbt_fabio", "stg_customers"), "TABLE_SCHEM"), "[dbt_fabio]");
            expect("getPrimaryKeys of a model missing from dev", names(md.getPrimaryKeys(null, "dbt_fabio", "stg_payments"), "TABLE_SCHEM"), "[]");
            expect("getIndexInfo of a model missing from dev", names(md.getIndexInfo(null, "dbt_fabio", "stg_payments", false, false), "TABLE_SCHEM"), "[]");
            expect("getColumns of a model missing from dev", names(md.getColumns(null, "dbt_fabio", "stg_payments", "%"), "TABLE_SCHEM"), "[]");
            expect("getTables of a model missing from dev", names(md.getTables(null, "dbt_fabio", "stg_payments", new String[] {"TABLE", "VIEW"}), "TABLE_SCHEM"), "[]");
        }
    }

    static String names(ResultSet rs, String column) throws SQLException {
        TreeSet<String> out = new TreeSet<>();
        try (rs) {
            while (rs.next()) {
                out.add(rs.getString(column));
            }
        }
        return out.toString();
    }

    /** A HikariCP pool of 4 connections, 8 threads: every connection follows the build and the drop. */
    static void hikari() throws Exception {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername("postgres");
        hc.addDataSourceProperty("sslmode", "disable");
        hc.addDataSourceProperty("prepareThreshold", "1");
        hc.setMaximumPoolSize(4);
        hc.setMinimumIdle(4);
        try (HikariDataSource ds = new HikariDataSource(hc)) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                poolRound(ds, pool, "prod");
                build();
                poolRound(ds, pool, "dev");
                dropDev();
                poolRound(ds, pool, "prod");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    static void poolRound(HikariDataSource ds, ExecutorService pool, String want) throws Exception {
        List<Future<String>> fs = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            fs.add(pool.submit(() -> {
                String last = null;
                for (int i = 0; i < 25; i++) {
                    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(Q)) {
                        String got = read(ps);
                        if (!want.equals(got)) {
                            return got;
                        }
                        last = got;
                    }
                }
                return last;
            }));
        }
        for (Future<String> f : fs) {
            expect("pool thread", f.get(), want);
        }
    }

    // ---- The opt-in catalog view (issue 14): deferred models listed in the dev schema with production's metadata ----
    //
    // The fixture (deferral/catalogview_driver_test.go, catalogViewSQL): production analytics.stg_payments has a dropped
    // column, five columns with types of their own, NOT NULL, a primary key, a unique constraint, a two-column index
    // (one column DESC), a table comment and column comments; the view analytics.stg_orders has a comment; dev's own
    // dbt_fabio.stg_customers (built in dev, not deferred) has a primary key and the comment "dev build" while
    // production's has another column and comment. customers, orders and raw_payments are deferred tables without a
    // comment. eph_orders is ephemeral (no relation), the test is not a relation.

    static final String DEV = "dbt_fabio", PROD = "analytics";
    static final String[] TABLES_AND_VIEWS = {"TABLE", "VIEW"};
    /** The deferred relations: dev name, production's table type, production's own comment. */
    static final String[][] DEFERRED = {
        {"customers", "TABLE", null},
        {"orders", "TABLE", null},
        {"raw_payments", "TABLE", null},
        {"stg_orders", "VIEW", "Orders as staged"},
        {"stg_payments", "TABLE", "Payments, one row per attempt"},
    };

    static String remark(String name, String prodComment) {
        String r = "deferproxy: not built in " + DEV + "; reads production " + PROD + "." + name;
        return prodComment == null ? r : r + " - " + prodComment;
    }

    /** getTables(TABLE, VIEW) of the dev schema with the view on: the deferred relations and dev's stg_customers. */
    static String wantTables() {
        List<String> want = new ArrayList<>();
        for (String[] d : DEFERRED) {
            want.add(d[0] + "|" + d[1] + "|" + remark(d[0], d[2]));
        }
        want.add("stg_customers|TABLE|dev build");
        // pgjdbc's order: TABLE_TYPE, then TABLE_NAME.
        want.sort((a, b) -> (a.split("\\|")[1] + "|" + a).compareTo(b.split("\\|")[1] + "|" + b));
        return want.toString();
    }

    /** The chosen columns of every row, "|"-joined, in the driver's order. */
    static List<String> cols(ResultSet rs, String... labels) throws SQLException {
        List<String> out = new ArrayList<>();
        try (rs) {
            while (rs.next()) {
                StringBuilder b = new StringBuilder();
                for (String l : labels) {
                    b.append(b.length() == 0 ? "" : "|").append(rs.getString(l));
                }
                out.add(b.toString());
            }
        }
        return out;
    }

    /** Every column of every row except those named, "label=value" joined, in the driver's order. */
    static List<String> allBut(ResultSet rs, String... skip) throws SQLException {
        Set<String> skipped = new HashSet<>(Arrays.asList(skip));
        List<String> out = new ArrayList<>();
        try (rs) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                StringBuilder b = new StringBuilder();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    if (!skipped.contains(md.getColumnLabel(i).toUpperCase())) {
                        b.append(md.getColumnLabel(i)).append('=').append(rs.getString(i)).append(';');
                    }
                }
                out.add(b.toString());
            }
        }
        return out;
    }

    static void expectList(String step, List<String> got, List<String> want) {
        expect(step, got.toString(), want.toString());
    }

    /**
     * The catalog view is on for c: every DatabaseMetaData call describing the dev schema lists the deferred models with
     * production's metadata, labelled with the dev schema, and agrees with what a query of the relation returns.
     */
    static void catalogViewChecks(Connection c) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        expect("getTables(TABLE, VIEW)", cols(md.getTables(null, DEV, "%", TABLES_AND_VIEWS), "TABLE_NAME", "TABLE_TYPE", "REMARKS").toString(), wantTables());
        expect("getTables(TABLE, VIEW) schema", names(md.getTables(null, DEV, "%", TABLES_AND_VIEWS), "TABLE_SCHEM"), "[" + DEV + "]");
        expect("getSchemas", String.valueOf(names(md.getSchemas(null, DEV), "TABLE_SCHEM")), "[" + DEV + "]");

        // Production's columns, in production's order (the dropped column skipped), with their comments.
        expectList("getColumns(stg_payments)", cols(md.getColumns(null, DEV, "stg_payments", "%"),
                "TABLE_SCHEM", "COLUMN_NAME", "TYPE_NAME", "COLUMN_SIZE", "DECIMAL_DIGITS", "ORDINAL_POSITION", "IS_NULLABLE", "REMARKS"),
            List.of("dbt_fabio|id|int4|10|0|1|NO|payment id", "dbt_fabio|src|text|2147483647|0|2|YES|null",
                "dbt_fabio|amount|numeric|12|2|3|NO|in EUR", "dbt_fabio|paid_at|timestamptz|35|6|4|YES|null",
                "dbt_fabio|ref|varchar|40|0|5|YES|null"));
        expectList("getColumns(stg_orders), a view", cols(md.getColumns(null, DEV, "stg_orders", "%"), "COLUMN_NAME", "TYPE_NAME", "ORDINAL_POSITION"),
            List.of("id|int4|1", "src|text|2"));
        // The model built in dev appears once, as dev's (production's has a column prod_only).
        expectList("getColumns(stg_customers), built in dev", cols(md.getColumns(null, DEV, "stg_customers", "%"), "TABLE_SCHEM", "COLUMN_NAME"),
            List.of("dbt_fabio|id", "dbt_fabio|src"));
        expectList("getTables(stg_customers), built in dev", cols(md.getTables(null, DEV, "stg_customers", TABLES_AND_VIEWS), "TABLE_NAME", "REMARKS"),
            List.of("stg_customers|dev build"));

        // Keys and indexes: production's, labelled with the dev schema.
        expectList("getPrimaryKeys(stg_payments)", cols(md.getPrimaryKeys(null, DEV, "stg_payments"), "TABLE_SCHEM", "TABLE_NAME", "COLUMN_NAME", "KEY_SEQ", "PK_NAME"),
            List.of("dbt_fabio|stg_payments|id|1|stg_payments_pkey"));
        expectList("getIndexInfo(stg_payments)", cols(md.getIndexInfo(null, DEV, "stg_payments", false, false),
                "TABLE_SCHEM", "TABLE_NAME", "INDEX_NAME", "NON_UNIQUE", "ORDINAL_POSITION", "COLUMN_NAME", "ASC_OR_DESC"),
            List.of("dbt_fabio|stg_payments|stg_payments_pkey|f|1|id|A", "dbt_fabio|stg_payments|stg_payments_ref_key|f|1|ref|A",
                "dbt_fabio|stg_payments|stg_payments_src_paid|t|1|src|A", "dbt_fabio|stg_payments|stg_payments_src_paid|t|2|paid_at|D"));
        expectList("getIndexInfo(stg_payments, unique)", cols(md.getIndexInfo(null, DEV, "stg_payments", true, false), "INDEX_NAME", "COLUMN_NAME"),
            List.of("stg_payments_pkey|id", "stg_payments_ref_key|ref"));
        expectList("getPrimaryKeys(stg_customers), built in dev", cols(md.getPrimaryKeys(null, DEV, "stg_customers"), "TABLE_SCHEM", "COLUMN_NAME", "PK_NAME"),
            List.of("dbt_fabio|id|stg_customers_pkey"));

        // Every deferred relation: the dev schema's metadata is production's, row for row, but for the schema's name
        // (and the table comment, checked above). CARDINALITY and PAGES are statistics, not metadata.
        for (String[] d : DEFERRED) {
            String x = d[0];
            expectList("getColumns(" + x + ") = production's", allBut(md.getColumns(null, DEV, x, "%"), "TABLE_SCHEM"),
                allBut(md.getColumns(null, PROD, x, "%"), "TABLE_SCHEM"));
            expectList("getPrimaryKeys(" + x + ") = production's", allBut(md.getPrimaryKeys(null, DEV, x), "TABLE_SCHEM"),
                allBut(md.getPrimaryKeys(null, PROD, x), "TABLE_SCHEM"));
            expectList("getIndexInfo(" + x + ") = production's", allBut(md.getIndexInfo(null, DEV, x, false, false), "TABLE_SCHEM", "CARDINALITY", "PAGES"),
                allBut(md.getIndexInfo(null, PROD, x, false, false), "TABLE_SCHEM", "CARDINALITY", "PAGES"));
            // The metadata agrees with the data: what SELECT * returns is what getColumns lists.
            List<String> fromQuery = new ArrayList<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select * from " + DEV + "." + x)) {
                ResultSetMetaData rmd = rs.getMetaData();
                for (int i = 1; i <= rmd.getColumnCount(); i++) {
                    fromQuery.add(rmd.getColumnName(i) + "|" + rmd.getColumnTypeName(i) + "|" + i);
                }
            }
            List<String> listed = cols(md.getColumns(null, DEV, x, "%"), "COLUMN_NAME", "TYPE_NAME", "ORDINAL_POSITION");
            if (listed.isEmpty()) {
                fail("getColumns(" + x + "): no columns");
            }
            expectList("select * from " + DEV + "." + x + " = getColumns", fromQuery, listed);
        }
    }

    /** The catalog view is off for c: the dev schema as it is (only stg_customers), as the "metadata" scenario says. */
    static void catalogViewOffChecks(Connection c, String step) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        expect(step + ": getTables", names(md.getTables(null, DEV, "%", TABLES_AND_VIEWS), "TABLE_NAME"), "[stg_customers]");
        expect(step + ": getColumns", names(md.getColumns(null, DEV, "%", "%"), "TABLE_NAME"), "[stg_customers]");
        expect(step + ": getColumns of stg_customers", cols(md.getColumns(null, DEV, "stg_customers", "%"), "COLUMN_NAME").toString(), "[id, src]");
    }

    static void set(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
        System.out.println("sql: " + sql);
    }

    /** SET deferproxy.catalog_view = on, then off; and a server-prepared metadata statement follows both. */
    static void catalogViewBySet() throws SQLException {
        try (Connection c = connect(new Properties())) {
            expect("SHOW before", query(c, "show deferproxy.catalog_view"), "off");
            catalogViewOffChecks(c, "before the SET");
            set(c, "SET deferproxy.catalog_view = on");
            expect("SHOW after SET on", query(c, "show deferproxy.catalog_view"), "on");
            catalogViewChecks(c);
            set(c, "SET deferproxy.catalog_view = off");
            expect("SHOW after SET off", query(c, "show deferproxy.catalog_view"), "off");
            catalogViewOffChecks(c, "after SET off");
        }
        // An IDE that caches every statement on the server: the same getTables statement follows the setting.
        try (Connection c = connect(props("preferQueryMode", "extendedCacheEverything"))) {
            DatabaseMetaData md = c.getMetaData();
            set(c, "SET deferproxy.catalog_view = on");
            for (int i = 0; i < 7; i++) {
                expect("cached getTables, on, run " + (i + 1), cols(md.getTables(null, DEV, "%", TABLES_AND_VIEWS), "TABLE_NAME", "TABLE_TYPE", "REMARKS").toString(), wantTables());
            }
            set(c, "SET deferproxy.catalog_view = off");
            expect("cached getTables after SET off", names(md.getTables(null, DEV, "%", TABLES_AND_VIEWS), "TABLE_NAME"), "[stg_customers]");
            set(c, "SET deferproxy.catalog_view = on");
            expect("cached getTables after SET on again", cols(md.getTables(null, DEV, "%", TABLES_AND_VIEWS), "TABLE_NAME", "TABLE_TYPE", "REMARKS").toString(), wantTables());
        }
    }

    /** The startup option, as a JDBC URL's or a data source's options=-c deferproxy.catalog_view=on sends it. */
    static void catalogViewByOption() throws SQLException {
        try (Connection c = connect(props("options", "-c deferproxy.catalog_view=on"))) {
            expect("SHOW", query(c, "show deferproxy.catalog_view"), "on");
            catalogViewChecks(c);
            set(c, "RESET deferproxy.catalog_view"); // back to the connection's start value: on
            expect("SHOW after RESET", query(c, "show deferproxy.catalog_view"), "on");
            expect("getTables after RESET", cols(c.getMetaData().getTables(null, DEV, "%", TABLES_AND_VIEWS), "TABLE_NAME", "TABLE_TYPE", "REMARKS").toString(), wantTables());
        }
    }

    /**
     * The control, run straight against PostgreSQL (not through the proxy) on a database where the dev schema really
     * holds what the catalog view shows: copies of production's relations with the view's comments. The expectations of
     * catalogViewChecks are PostgreSQL's own answers, not the proxy's.
     */
    static void catalogViewControl() throws SQLException {
        try (Connection c = connect(new Properties())) {
            catalogViewChecks(c);
        }
    }

    /**
     * catalog_view_apps matches the IDE's ApplicationName (the test configures "DBeaver*", "data*" and "db*"). pgjdbc
     * sends it with SET application_name right after connecting (what DBeaver and DataGrip do); with
     * assumeMinServerVersion=9.0 (given in extra) in the startup packet instead.
     */
    static void catalogViewByApps(Properties extra) throws SQLException {
        try (Connection c = connect(with(extra, "ApplicationName", "DBeaver 24.1.0 - Metadata"))) {
            expect("SHOW (DBeaver)", query(c, "show deferproxy.catalog_view"), "on");
            catalogViewChecks(c);
            set(c, "SET deferproxy.catalog_view = off");
            catalogViewOffChecks(c, "DBeaver after SET off");
        }
        try (Connection c = connect(with(extra, "ApplicationName", "dataGrip 2024.3"))) {
            expect("getTables (dataGrip, matched case-insensitively by data*)", cols(c.getMetaData().getTables(null, DEV, "%", TABLES_AND_VIEWS), "TABLE_NAME", "TABLE_TYPE", "REMARKS").toString(), wantTables());
        }
        try (Connection c = connect(with(extra, "ApplicationName", "Metabase"))) {
            expect("SHOW (Metabase)", query(c, "show deferproxy.catalog_view"), "off");
            catalogViewOffChecks(c, "an application not configured");
        }
        // dbt matches "db*", yet dbt never gets the view: its listing decides create versus replace.
        try (Connection c = connect(with(extra, "ApplicationName", "dbt"))) {
            catalogViewOffChecks(c, "dbt matched by catalog_view_apps");
        }
    }

    static Properties with(Properties p, String k, String v) {
        Properties out = new Properties();
        out.putAll(p);
        out.setProperty(k, v);
        return out;
    }

    /** A dbt session (ApplicationName dbt, sent as in catalogViewByApps) that sets the view on sees the dev schema as it is. */
    static void catalogViewDbt(Properties extra) throws SQLException {
        try (Connection c = connect(with(extra, "ApplicationName", "dbt"))) {
            set(c, "SET deferproxy.catalog_view = on");
            catalogViewOffChecks(c, "dbt session after SET on");
        }
    }

    /** A HikariCP pool whose connections start with connectionInitSql SET deferproxy.catalog_view = on. */
    static void catalogViewHikari() throws Exception {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername("postgres");
        hc.addDataSourceProperty("sslmode", "disable");
        hc.addDataSourceProperty("ApplicationName", "DriverCheck pool");
        hc.setConnectionInitSql("SET deferproxy.catalog_view = on");
        hc.setMaximumPoolSize(2);
        hc.setMinimumIdle(2);
        try (HikariDataSource ds = new HikariDataSource(hc)) {
            try (Connection a = ds.getConnection(); Connection b = ds.getConnection()) {
                catalogViewChecks(a);
                expect("second pooled connection: getTables", cols(b.getMetaData().getTables(null, DEV, "%", TABLES_AND_VIEWS), "TABLE_NAME", "TABLE_TYPE", "REMARKS").toString(), wantTables());
            }
        }
    }
}
