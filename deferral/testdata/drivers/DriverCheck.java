import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
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
        ddl("drop table if exists dbt_fabio.stg_orders"); // a clean start whatever an earlier scenario left
        switch (scenario) {
            case "default": prepared(new Properties(), 5); break;
            case "threshold1": prepared(props("prepareThreshold", "1"), 1); break;
            case "threshold-1": prepared(props("prepareThreshold", "-1"), 1); break;
            case "cacheEverything": cacheEverything(); break;
            case "rowtype": rowType(); break;
            case "hikari": hikari(); break;
            case "metadata": metadata(); break;
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
        all.setProperty("ApplicationName", "DriverCheck");
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
            if (!ps.unwrap(PGStatement.class).isUseServerPrepare()) {
                fail("the statement is not prepared on the server after " + (threshold + 3) + " executions");
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
}
