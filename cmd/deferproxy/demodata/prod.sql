-- Production schema "analytics" of the jaffle_shop example: what `dbt build --target prod` (dbt-core 1.11.16,
-- dbt-postgres 1.11.0) built from ../shared/corpus/dbt/jaffle_shop, dumped with pg_dump --inserts. Loaded by `deferproxy demo`.
--
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: analytics; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA analytics;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: customers; Type: TABLE; Schema: analytics; Owner: -
--

CREATE TABLE analytics.customers (
    customer_id integer,
    first_name text,
    last_name text,
    first_order date,
    most_recent_order date,
    number_of_orders bigint,
    customer_lifetime_value bigint
);

--
-- Name: orders; Type: TABLE; Schema: analytics; Owner: -
--

CREATE TABLE analytics.orders (
    order_id integer,
    customer_id integer,
    order_date date,
    status text,
    credit_card_amount bigint,
    coupon_amount bigint,
    bank_transfer_amount bigint,
    gift_card_amount bigint,
    amount bigint
);

--
-- Name: raw_customers; Type: TABLE; Schema: analytics; Owner: -
--

CREATE TABLE analytics.raw_customers (
    id integer,
    first_name text,
    last_name text
);

--
-- Name: raw_orders; Type: TABLE; Schema: analytics; Owner: -
--

CREATE TABLE analytics.raw_orders (
    id integer,
    user_id integer,
    order_date date,
    status text
);

--
-- Name: raw_payments; Type: TABLE; Schema: analytics; Owner: -
--

CREATE TABLE analytics.raw_payments (
    id integer,
    order_id integer,
    payment_method text,
    amount integer
);

--
-- Name: stg_customers; Type: VIEW; Schema: analytics; Owner: -
--

CREATE VIEW analytics.stg_customers AS
 WITH source AS (
         SELECT raw_customers.id,
            raw_customers.first_name,
            raw_customers.last_name
           FROM analytics.raw_customers
        ), renamed AS (
         SELECT source.id AS customer_id,
            source.first_name,
            source.last_name
           FROM source
        )
 SELECT renamed.customer_id,
    renamed.first_name,
    renamed.last_name
   FROM renamed;

--
-- Name: stg_orders; Type: VIEW; Schema: analytics; Owner: -
--

CREATE VIEW analytics.stg_orders AS
 WITH source AS (
         SELECT raw_orders.id,
            raw_orders.user_id,
            raw_orders.order_date,
            raw_orders.status
           FROM analytics.raw_orders
        ), renamed AS (
         SELECT source.id AS order_id,
            source.user_id AS customer_id,
            source.order_date,
            source.status
           FROM source
        )
 SELECT renamed.order_id,
    renamed.customer_id,
    renamed.order_date,
    renamed.status
   FROM renamed;

--
-- Name: stg_payments; Type: VIEW; Schema: analytics; Owner: -
--

CREATE VIEW analytics.stg_payments AS
 WITH source AS (
         SELECT raw_payments.id,
            raw_payments.order_id,
            raw_payments.payment_method,
            raw_payments.amount
           FROM analytics.raw_payments
        ), renamed AS (
         SELECT source.id AS payment_id,
            source.order_id,
            source.payment_method,
            (source.amount / 100) AS amount
           FROM source
        )
 SELECT renamed.payment_id,
    renamed.order_id,
    renamed.payment_method,
    renamed.amount
   FROM renamed;

--
-- Data for Name: customers; Type: TABLE DATA; Schema: analytics; Owner: -
--

INSERT INTO analytics.customers VALUES (1, 'Michael', 'P.', '2018-01-01', '2018-02-10', 2, 33);
INSERT INTO analytics.customers VALUES (2, 'Shawn', 'M.', '2018-01-11', '2018-01-11', 1, 23);
INSERT INTO analytics.customers VALUES (3, 'Kathleen', 'P.', '2018-01-02', '2018-03-11', 3, 65);
INSERT INTO analytics.customers VALUES (4, 'Jimmy', 'C.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (5, 'Katherine', 'R.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (6, 'Sarah', 'R.', '2018-02-19', '2018-02-19', 1, 8);
INSERT INTO analytics.customers VALUES (7, 'Martin', 'M.', '2018-01-14', '2018-01-14', 1, 26);
INSERT INTO analytics.customers VALUES (8, 'Frank', 'R.', '2018-01-29', '2018-03-12', 2, 45);
INSERT INTO analytics.customers VALUES (9, 'Jennifer', 'F.', '2018-03-17', '2018-03-17', 1, 30);
INSERT INTO analytics.customers VALUES (10, 'Henry', 'W.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (11, 'Fred', 'S.', '2018-03-23', '2018-03-23', 1, 3);
INSERT INTO analytics.customers VALUES (12, 'Amy', 'D.', '2018-03-03', '2018-03-03', 1, 4);
INSERT INTO analytics.customers VALUES (13, 'Kathleen', 'M.', '2018-03-07', '2018-03-07', 1, 26);
INSERT INTO analytics.customers VALUES (14, 'Steve', 'F.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (15, 'Teresa', 'H.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (16, 'Amanda', 'H.', '2018-02-02', '2018-02-02', 1, 12);
INSERT INTO analytics.customers VALUES (17, 'Kimberly', 'R.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (18, 'Johnny', 'K.', '2018-02-27', '2018-02-27', 1, 29);
INSERT INTO analytics.customers VALUES (19, 'Virginia', 'F.', '2018-03-16', '2018-03-16', 1, 3);
INSERT INTO analytics.customers VALUES (20, 'Anna', 'A.', '2018-01-23', '2018-01-23', 1, 15);
INSERT INTO analytics.customers VALUES (21, 'Willie', 'H.', '2018-03-28', '2018-03-28', 1, 22);
INSERT INTO analytics.customers VALUES (22, 'Sean', 'H.', '2018-01-26', '2018-03-01', 3, 52);
INSERT INTO analytics.customers VALUES (23, 'Mildred', 'A.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (24, 'David', 'G.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (25, 'Victor', 'H.', '2018-01-17', '2018-03-20', 2, 24);
INSERT INTO analytics.customers VALUES (26, 'Aaron', 'R.', '2018-02-11', '2018-03-08', 2, 8);
INSERT INTO analytics.customers VALUES (27, 'Benjamin', 'B.', '2018-02-21', '2018-04-04', 2, 27);
INSERT INTO analytics.customers VALUES (28, 'Lisa', 'W.', '2018-02-04', '2018-02-04', 1, 3);
INSERT INTO analytics.customers VALUES (29, 'Benjamin', 'K.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (30, 'Christina', 'W.', '2018-03-02', '2018-03-14', 2, 57);
INSERT INTO analytics.customers VALUES (31, 'Jane', 'G.', '2018-02-17', '2018-02-17', 1, 18);
INSERT INTO analytics.customers VALUES (32, 'Thomas', 'O.', '2018-01-28', '2018-01-28', 1, 30);
INSERT INTO analytics.customers VALUES (33, 'Katherine', 'M.', '2018-02-13', '2018-02-13', 1, 14);
INSERT INTO analytics.customers VALUES (34, 'Jennifer', 'S.', '2018-02-26', '2018-02-26', 1, 3);
INSERT INTO analytics.customers VALUES (35, 'Sara', 'T.', '2018-02-21', '2018-03-21', 2, 34);
INSERT INTO analytics.customers VALUES (36, 'Harold', 'O.', '2018-03-10', '2018-03-10', 1, 28);
INSERT INTO analytics.customers VALUES (37, 'Shirley', 'J.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (38, 'Dennis', 'J.', '2018-02-06', '2018-02-06', 1, 15);
INSERT INTO analytics.customers VALUES (39, 'Louise', 'W.', '2018-01-18', '2018-01-18', 1, 10);
INSERT INTO analytics.customers VALUES (40, 'Maria', 'A.', '2018-01-17', '2018-01-17', 1, 3);
INSERT INTO analytics.customers VALUES (41, 'Gloria', 'C.', '2018-04-07', '2018-04-07', 1, 10);
INSERT INTO analytics.customers VALUES (42, 'Diana', 'S.', '2018-02-04', '2018-03-12', 2, 27);
INSERT INTO analytics.customers VALUES (43, 'Kelly', 'N.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (44, 'Jane', 'R.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (45, 'Scott', 'B.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (46, 'Norma', 'C.', '2018-03-24', '2018-03-27', 2, 64);
INSERT INTO analytics.customers VALUES (47, 'Marie', 'P.', '2018-03-26', '2018-03-31', 2, 36);
INSERT INTO analytics.customers VALUES (48, 'Lillian', 'C.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (49, 'Judy', 'N.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (50, 'Billy', 'L.', '2018-01-05', '2018-02-20', 2, 47);
INSERT INTO analytics.customers VALUES (51, 'Howard', 'R.', '2018-01-28', '2018-02-23', 3, 99);
INSERT INTO analytics.customers VALUES (52, 'Laura', 'F.', '2018-03-23', '2018-03-23', 1, 27);
INSERT INTO analytics.customers VALUES (53, 'Anne', 'B.', '2018-01-12', '2018-03-11', 2, 39);
INSERT INTO analytics.customers VALUES (54, 'Rose', 'M.', '2018-01-07', '2018-03-24', 5, 57);
INSERT INTO analytics.customers VALUES (55, 'Nicholas', 'R.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (56, 'Joshua', 'K.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (57, 'Paul', 'W.', '2018-01-31', '2018-03-05', 2, 26);
INSERT INTO analytics.customers VALUES (58, 'Kathryn', 'K.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (59, 'Adam', 'A.', '2018-01-15', '2018-01-15', 1, 1);
INSERT INTO analytics.customers VALUES (60, 'Norma', 'W.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (61, 'Timothy', 'R.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (62, 'Elizabeth', 'P.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (63, 'Edward', 'G.', '2018-03-03', '2018-04-03', 2, 23);
INSERT INTO analytics.customers VALUES (64, 'David', 'C.', '2018-01-05', '2018-01-20', 2, 30);
INSERT INTO analytics.customers VALUES (65, 'Brenda', 'W.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (66, 'Adam', 'W.', '2018-02-17', '2018-04-03', 3, 39);
INSERT INTO analytics.customers VALUES (67, 'Michael', 'H.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (68, 'Jesse', 'E.', '2018-03-26', '2018-03-26', 1, 23);
INSERT INTO analytics.customers VALUES (69, 'Janet', 'P.', '2018-02-02', '2018-03-18', 2, 32);
INSERT INTO analytics.customers VALUES (70, 'Helen', 'F.', '2018-03-06', '2018-03-26', 2, 54);
INSERT INTO analytics.customers VALUES (71, 'Gerald', 'C.', '2018-01-18', '2018-02-24', 3, 44);
INSERT INTO analytics.customers VALUES (72, 'Kathryn', 'O.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (73, 'Alan', 'B.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (74, 'Harry', 'A.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (75, 'Andrea', 'H.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (76, 'Barbara', 'W.', '2018-03-23', '2018-03-23', 1, 2);
INSERT INTO analytics.customers VALUES (77, 'Anne', 'W.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (78, 'Harry', 'H.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (79, 'Jack', 'R.', '2018-02-28', '2018-03-11', 2, 27);
INSERT INTO analytics.customers VALUES (80, 'Phillip', 'H.', '2018-02-08', '2018-02-08', 1, 29);
INSERT INTO analytics.customers VALUES (81, 'Shirley', 'H.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (82, 'Arthur', 'D.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (83, 'Virginia', 'R.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (84, 'Christina', 'R.', '2018-01-17', '2018-04-02', 2, 36);
INSERT INTO analytics.customers VALUES (85, 'Theresa', 'M.', '2018-02-10', '2018-04-09', 2, 33);
INSERT INTO analytics.customers VALUES (86, 'Jason', 'C.', '2018-01-24', '2018-01-24', 1, 8);
INSERT INTO analytics.customers VALUES (87, 'Phillip', 'B.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (88, 'Adam', 'T.', '2018-01-09', '2018-01-09', 1, 16);
INSERT INTO analytics.customers VALUES (89, 'Margaret', 'J.', '2018-04-07', '2018-04-07', 1, 14);
INSERT INTO analytics.customers VALUES (90, 'Paul', 'P.', '2018-03-23', '2018-04-06', 2, 43);
INSERT INTO analytics.customers VALUES (91, 'Todd', 'W.', '2018-03-27', '2018-03-27', 1, 29);
INSERT INTO analytics.customers VALUES (92, 'Willie', 'O.', '2018-02-16', '2018-02-16', 1, 17);
INSERT INTO analytics.customers VALUES (93, 'Frances', 'R.', '2018-03-01', '2018-03-01', 1, 2);
INSERT INTO analytics.customers VALUES (94, 'Gregory', 'H.', '2018-01-04', '2018-01-29', 2, 24);
INSERT INTO analytics.customers VALUES (95, 'Lisa', 'P.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (96, 'Jacqueline', 'A.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (97, 'Shirley', 'D.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (98, 'Nicole', 'M.', NULL, NULL, NULL, NULL);
INSERT INTO analytics.customers VALUES (99, 'Mary', 'G.', '2018-01-14', '2018-02-14', 2, 44);
INSERT INTO analytics.customers VALUES (100, 'Jean', 'M.', NULL, NULL, NULL, NULL);

--
-- Data for Name: orders; Type: TABLE DATA; Schema: analytics; Owner: -
--

INSERT INTO analytics.orders VALUES (1, 1, '2018-01-01', 'returned', 10, 0, 0, 0, 10);
INSERT INTO analytics.orders VALUES (2, 3, '2018-01-02', 'completed', 20, 0, 0, 0, 20);
INSERT INTO analytics.orders VALUES (3, 94, '2018-01-04', 'completed', 0, 1, 0, 0, 1);
INSERT INTO analytics.orders VALUES (4, 50, '2018-01-05', 'completed', 0, 25, 0, 0, 25);
INSERT INTO analytics.orders VALUES (5, 64, '2018-01-05', 'completed', 0, 0, 17, 0, 17);
INSERT INTO analytics.orders VALUES (6, 54, '2018-01-07', 'completed', 6, 0, 0, 0, 6);
INSERT INTO analytics.orders VALUES (7, 88, '2018-01-09', 'completed', 16, 0, 0, 0, 16);
INSERT INTO analytics.orders VALUES (8, 2, '2018-01-11', 'returned', 23, 0, 0, 0, 23);
INSERT INTO analytics.orders VALUES (9, 53, '2018-01-12', 'completed', 0, 0, 0, 23, 23);
INSERT INTO analytics.orders VALUES (10, 7, '2018-01-14', 'completed', 0, 0, 26, 0, 26);
INSERT INTO analytics.orders VALUES (11, 99, '2018-01-14', 'completed', 27, 0, 0, 0, 27);
INSERT INTO analytics.orders VALUES (12, 59, '2018-01-15', 'completed', 1, 0, 0, 0, 1);
INSERT INTO analytics.orders VALUES (13, 84, '2018-01-17', 'completed', 5, 0, 14, 0, 19);
INSERT INTO analytics.orders VALUES (14, 40, '2018-01-17', 'returned', 0, 0, 3, 0, 3);
INSERT INTO analytics.orders VALUES (15, 25, '2018-01-17', 'completed', 0, 22, 0, 0, 22);
INSERT INTO analytics.orders VALUES (16, 39, '2018-01-18', 'completed', 10, 0, 0, 0, 10);
INSERT INTO analytics.orders VALUES (17, 71, '2018-01-18', 'completed', 0, 0, 2, 0, 2);
INSERT INTO analytics.orders VALUES (18, 64, '2018-01-20', 'returned', 13, 0, 0, 0, 13);
INSERT INTO analytics.orders VALUES (19, 54, '2018-01-22', 'completed', 0, 0, 0, 6, 6);
INSERT INTO analytics.orders VALUES (20, 20, '2018-01-23', 'completed', 0, 0, 15, 0, 15);
INSERT INTO analytics.orders VALUES (21, 71, '2018-01-23', 'completed', 12, 0, 0, 0, 12);
INSERT INTO analytics.orders VALUES (22, 86, '2018-01-24', 'completed', 0, 0, 8, 0, 8);
INSERT INTO analytics.orders VALUES (23, 22, '2018-01-26', 'return_pending', 0, 0, 0, 23, 23);
INSERT INTO analytics.orders VALUES (24, 3, '2018-01-27', 'completed', 0, 26, 0, 0, 26);
INSERT INTO analytics.orders VALUES (25, 51, '2018-01-28', 'completed', 22, 16, 20, 0, 58);
INSERT INTO analytics.orders VALUES (26, 32, '2018-01-28', 'completed', 30, 0, 0, 0, 30);
INSERT INTO analytics.orders VALUES (27, 94, '2018-01-29', 'completed', 23, 0, 0, 0, 23);
INSERT INTO analytics.orders VALUES (28, 8, '2018-01-29', 'completed', 0, 0, 19, 0, 19);
INSERT INTO analytics.orders VALUES (29, 57, '2018-01-31', 'completed', 0, 0, 12, 0, 12);
INSERT INTO analytics.orders VALUES (30, 69, '2018-02-02', 'completed', 13, 0, 0, 0, 13);
INSERT INTO analytics.orders VALUES (31, 16, '2018-02-02', 'completed', 12, 0, 0, 0, 12);
INSERT INTO analytics.orders VALUES (32, 28, '2018-02-04', 'completed', 3, 0, 0, 0, 3);
INSERT INTO analytics.orders VALUES (33, 42, '2018-02-04', 'completed', 22, 0, 0, 0, 22);
INSERT INTO analytics.orders VALUES (34, 38, '2018-02-06', 'completed', 0, 0, 15, 0, 15);
INSERT INTO analytics.orders VALUES (35, 80, '2018-02-08', 'completed', 29, 0, 0, 0, 29);
INSERT INTO analytics.orders VALUES (36, 85, '2018-02-10', 'completed', 0, 0, 9, 0, 9);
INSERT INTO analytics.orders VALUES (37, 1, '2018-02-10', 'completed', 23, 0, 0, 0, 23);
INSERT INTO analytics.orders VALUES (38, 51, '2018-02-10', 'completed', 15, 0, 0, 0, 15);
INSERT INTO analytics.orders VALUES (39, 26, '2018-02-11', 'completed', 0, 0, 8, 0, 8);
INSERT INTO analytics.orders VALUES (40, 33, '2018-02-13', 'completed', 14, 0, 0, 0, 14);
INSERT INTO analytics.orders VALUES (41, 99, '2018-02-14', 'completed', 17, 0, 0, 0, 17);
INSERT INTO analytics.orders VALUES (42, 92, '2018-02-16', 'completed', 0, 17, 0, 0, 17);
INSERT INTO analytics.orders VALUES (43, 31, '2018-02-17', 'completed', 0, 0, 0, 18, 18);
INSERT INTO analytics.orders VALUES (44, 66, '2018-02-17', 'completed', 0, 0, 0, 11, 11);
INSERT INTO analytics.orders VALUES (45, 22, '2018-02-17', 'completed', 0, 0, 5, 0, 5);
INSERT INTO analytics.orders VALUES (46, 6, '2018-02-19', 'completed', 0, 0, 8, 0, 8);
INSERT INTO analytics.orders VALUES (47, 50, '2018-02-20', 'completed', 22, 0, 0, 0, 22);
INSERT INTO analytics.orders VALUES (48, 27, '2018-02-21', 'completed', 0, 0, 3, 0, 3);
INSERT INTO analytics.orders VALUES (49, 35, '2018-02-21', 'completed', 15, 0, 0, 0, 15);
INSERT INTO analytics.orders VALUES (50, 51, '2018-02-23', 'completed', 26, 0, 0, 0, 26);
INSERT INTO analytics.orders VALUES (51, 71, '2018-02-24', 'completed', 30, 0, 0, 0, 30);
INSERT INTO analytics.orders VALUES (52, 54, '2018-02-25', 'return_pending', 0, 0, 15, 0, 15);
INSERT INTO analytics.orders VALUES (53, 34, '2018-02-26', 'completed', 3, 0, 0, 0, 3);
INSERT INTO analytics.orders VALUES (54, 54, '2018-02-26', 'completed', 18, 0, 11, 0, 29);
INSERT INTO analytics.orders VALUES (55, 18, '2018-02-27', 'completed', 29, 0, 0, 0, 29);
INSERT INTO analytics.orders VALUES (56, 79, '2018-02-28', 'completed', 4, 0, 0, 0, 4);
INSERT INTO analytics.orders VALUES (57, 93, '2018-03-01', 'completed', 0, 0, 2, 0, 2);
INSERT INTO analytics.orders VALUES (58, 22, '2018-03-01', 'completed', 0, 18, 0, 6, 24);
INSERT INTO analytics.orders VALUES (59, 30, '2018-03-02', 'completed', 0, 0, 0, 28, 28);
INSERT INTO analytics.orders VALUES (60, 12, '2018-03-03', 'completed', 4, 0, 0, 0, 4);
INSERT INTO analytics.orders VALUES (61, 63, '2018-03-03', 'completed', 0, 0, 16, 0, 16);
INSERT INTO analytics.orders VALUES (62, 57, '2018-03-05', 'completed', 0, 0, 0, 14, 14);
INSERT INTO analytics.orders VALUES (63, 70, '2018-03-06', 'completed', 29, 0, 0, 0, 29);
INSERT INTO analytics.orders VALUES (64, 13, '2018-03-07', 'completed', 0, 0, 26, 0, 26);
INSERT INTO analytics.orders VALUES (65, 26, '2018-03-08', 'completed', 0, 0, 0, 0, 0);
INSERT INTO analytics.orders VALUES (66, 36, '2018-03-10', 'completed', 28, 0, 0, 0, 28);
INSERT INTO analytics.orders VALUES (67, 79, '2018-03-11', 'completed', 19, 0, 4, 0, 23);
INSERT INTO analytics.orders VALUES (68, 53, '2018-03-11', 'completed', 16, 0, 0, 0, 16);
INSERT INTO analytics.orders VALUES (69, 3, '2018-03-11', 'completed', 19, 0, 0, 0, 19);
INSERT INTO analytics.orders VALUES (70, 8, '2018-03-12', 'completed', 26, 0, 0, 0, 26);
INSERT INTO analytics.orders VALUES (71, 42, '2018-03-12', 'shipped', 5, 0, 0, 0, 5);
INSERT INTO analytics.orders VALUES (72, 30, '2018-03-14', 'shipped', 29, 0, 0, 0, 29);
INSERT INTO analytics.orders VALUES (73, 19, '2018-03-16', 'completed', 0, 0, 3, 0, 3);
INSERT INTO analytics.orders VALUES (74, 9, '2018-03-17', 'shipped', 30, 0, 0, 0, 30);
INSERT INTO analytics.orders VALUES (75, 69, '2018-03-18', 'completed', 19, 0, 0, 0, 19);
INSERT INTO analytics.orders VALUES (76, 25, '2018-03-20', 'completed', 0, 2, 0, 0, 2);
INSERT INTO analytics.orders VALUES (77, 35, '2018-03-21', 'shipped', 0, 0, 19, 0, 19);
INSERT INTO analytics.orders VALUES (78, 90, '2018-03-23', 'shipped', 0, 0, 26, 0, 26);
INSERT INTO analytics.orders VALUES (79, 52, '2018-03-23', 'shipped', 27, 0, 0, 0, 27);
INSERT INTO analytics.orders VALUES (80, 11, '2018-03-23', 'shipped', 0, 0, 0, 3, 3);
INSERT INTO analytics.orders VALUES (81, 76, '2018-03-23', 'shipped', 0, 2, 0, 0, 2);
INSERT INTO analytics.orders VALUES (82, 46, '2018-03-24', 'shipped', 8, 0, 0, 0, 8);
INSERT INTO analytics.orders VALUES (83, 54, '2018-03-24', 'shipped', 1, 0, 0, 0, 1);
INSERT INTO analytics.orders VALUES (84, 70, '2018-03-26', 'placed', 0, 0, 25, 0, 25);
INSERT INTO analytics.orders VALUES (85, 47, '2018-03-26', 'shipped', 0, 0, 17, 0, 17);
INSERT INTO analytics.orders VALUES (86, 68, '2018-03-26', 'placed', 0, 23, 0, 0, 23);
INSERT INTO analytics.orders VALUES (87, 46, '2018-03-27', 'placed', 26, 0, 0, 30, 56);
INSERT INTO analytics.orders VALUES (88, 91, '2018-03-27', 'shipped', 29, 0, 0, 0, 29);
INSERT INTO analytics.orders VALUES (89, 21, '2018-03-28', 'placed', 0, 0, 22, 0, 22);
INSERT INTO analytics.orders VALUES (90, 66, '2018-03-30', 'shipped', 0, 0, 2, 0, 2);
INSERT INTO analytics.orders VALUES (91, 47, '2018-03-31', 'placed', 19, 0, 0, 0, 19);
INSERT INTO analytics.orders VALUES (92, 84, '2018-04-02', 'placed', 0, 2, 15, 0, 17);
INSERT INTO analytics.orders VALUES (93, 66, '2018-04-03', 'placed', 0, 0, 0, 26, 26);
INSERT INTO analytics.orders VALUES (94, 63, '2018-04-03', 'placed', 0, 7, 0, 0, 7);
INSERT INTO analytics.orders VALUES (95, 27, '2018-04-04', 'placed', 0, 24, 0, 0, 24);
INSERT INTO analytics.orders VALUES (96, 90, '2018-04-06', 'placed', 0, 0, 0, 17, 17);
INSERT INTO analytics.orders VALUES (97, 89, '2018-04-07', 'placed', 0, 0, 14, 0, 14);
INSERT INTO analytics.orders VALUES (98, 41, '2018-04-07', 'placed', 0, 0, 10, 0, 10);
INSERT INTO analytics.orders VALUES (99, 85, '2018-04-09', 'placed', 24, 0, 0, 0, 24);

--
-- Data for Name: raw_customers; Type: TABLE DATA; Schema: analytics; Owner: -
--

INSERT INTO analytics.raw_customers VALUES (1, 'Michael', 'P.');
INSERT INTO analytics.raw_customers VALUES (2, 'Shawn', 'M.');
INSERT INTO analytics.raw_customers VALUES (3, 'Kathleen', 'P.');
INSERT INTO analytics.raw_customers VALUES (4, 'Jimmy', 'C.');
INSERT INTO analytics.raw_customers VALUES (5, 'Katherine', 'R.');
INSERT INTO analytics.raw_customers VALUES (6, 'Sarah', 'R.');
INSERT INTO analytics.raw_customers VALUES (7, 'Martin', 'M.');
INSERT INTO analytics.raw_customers VALUES (8, 'Frank', 'R.');
INSERT INTO analytics.raw_customers VALUES (9, 'Jennifer', 'F.');
INSERT INTO analytics.raw_customers VALUES (10, 'Henry', 'W.');
INSERT INTO analytics.raw_customers VALUES (11, 'Fred', 'S.');
INSERT INTO analytics.raw_customers VALUES (12, 'Amy', 'D.');
INSERT INTO analytics.raw_customers VALUES (13, 'Kathleen', 'M.');
INSERT INTO analytics.raw_customers VALUES (14, 'Steve', 'F.');
INSERT INTO analytics.raw_customers VALUES (15, 'Teresa', 'H.');
INSERT INTO analytics.raw_customers VALUES (16, 'Amanda', 'H.');
INSERT INTO analytics.raw_customers VALUES (17, 'Kimberly', 'R.');
INSERT INTO analytics.raw_customers VALUES (18, 'Johnny', 'K.');
INSERT INTO analytics.raw_customers VALUES (19, 'Virginia', 'F.');
INSERT INTO analytics.raw_customers VALUES (20, 'Anna', 'A.');
INSERT INTO analytics.raw_customers VALUES (21, 'Willie', 'H.');
INSERT INTO analytics.raw_customers VALUES (22, 'Sean', 'H.');
INSERT INTO analytics.raw_customers VALUES (23, 'Mildred', 'A.');
INSERT INTO analytics.raw_customers VALUES (24, 'David', 'G.');
INSERT INTO analytics.raw_customers VALUES (25, 'Victor', 'H.');
INSERT INTO analytics.raw_customers VALUES (26, 'Aaron', 'R.');
INSERT INTO analytics.raw_customers VALUES (27, 'Benjamin', 'B.');
INSERT INTO analytics.raw_customers VALUES (28, 'Lisa', 'W.');
INSERT INTO analytics.raw_customers VALUES (29, 'Benjamin', 'K.');
INSERT INTO analytics.raw_customers VALUES (30, 'Christina', 'W.');
INSERT INTO analytics.raw_customers VALUES (31, 'Jane', 'G.');
INSERT INTO analytics.raw_customers VALUES (32, 'Thomas', 'O.');
INSERT INTO analytics.raw_customers VALUES (33, 'Katherine', 'M.');
INSERT INTO analytics.raw_customers VALUES (34, 'Jennifer', 'S.');
INSERT INTO analytics.raw_customers VALUES (35, 'Sara', 'T.');
INSERT INTO analytics.raw_customers VALUES (36, 'Harold', 'O.');
INSERT INTO analytics.raw_customers VALUES (37, 'Shirley', 'J.');
INSERT INTO analytics.raw_customers VALUES (38, 'Dennis', 'J.');
INSERT INTO analytics.raw_customers VALUES (39, 'Louise', 'W.');
INSERT INTO analytics.raw_customers VALUES (40, 'Maria', 'A.');
INSERT INTO analytics.raw_customers VALUES (41, 'Gloria', 'C.');
INSERT INTO analytics.raw_customers VALUES (42, 'Diana', 'S.');
INSERT INTO analytics.raw_customers VALUES (43, 'Kelly', 'N.');
INSERT INTO analytics.raw_customers VALUES (44, 'Jane', 'R.');
INSERT INTO analytics.raw_customers VALUES (45, 'Scott', 'B.');
INSERT INTO analytics.raw_customers VALUES (46, 'Norma', 'C.');
INSERT INTO analytics.raw_customers VALUES (47, 'Marie', 'P.');
INSERT INTO analytics.raw_customers VALUES (48, 'Lillian', 'C.');
INSERT INTO analytics.raw_customers VALUES (49, 'Judy', 'N.');
INSERT INTO analytics.raw_customers VALUES (50, 'Billy', 'L.');
INSERT INTO analytics.raw_customers VALUES (51, 'Howard', 'R.');
INSERT INTO analytics.raw_customers VALUES (52, 'Laura', 'F.');
INSERT INTO analytics.raw_customers VALUES (53, 'Anne', 'B.');
INSERT INTO analytics.raw_customers VALUES (54, 'Rose', 'M.');
INSERT INTO analytics.raw_customers VALUES (55, 'Nicholas', 'R.');
INSERT INTO analytics.raw_customers VALUES (56, 'Joshua', 'K.');
INSERT INTO analytics.raw_customers VALUES (57, 'Paul', 'W.');
INSERT INTO analytics.raw_customers VALUES (58, 'Kathryn', 'K.');
INSERT INTO analytics.raw_customers VALUES (59, 'Adam', 'A.');
INSERT INTO analytics.raw_customers VALUES (60, 'Norma', 'W.');
INSERT INTO analytics.raw_customers VALUES (61, 'Timothy', 'R.');
INSERT INTO analytics.raw_customers VALUES (62, 'Elizabeth', 'P.');
INSERT INTO analytics.raw_customers VALUES (63, 'Edward', 'G.');
INSERT INTO analytics.raw_customers VALUES (64, 'David', 'C.');
INSERT INTO analytics.raw_customers VALUES (65, 'Brenda', 'W.');
INSERT INTO analytics.raw_customers VALUES (66, 'Adam', 'W.');
INSERT INTO analytics.raw_customers VALUES (67, 'Michael', 'H.');
INSERT INTO analytics.raw_customers VALUES (68, 'Jesse', 'E.');
INSERT INTO analytics.raw_customers VALUES (69, 'Janet', 'P.');
INSERT INTO analytics.raw_customers VALUES (70, 'Helen', 'F.');
INSERT INTO analytics.raw_customers VALUES (71, 'Gerald', 'C.');
INSERT INTO analytics.raw_customers VALUES (72, 'Kathryn', 'O.');
INSERT INTO analytics.raw_customers VALUES (73, 'Alan', 'B.');
INSERT INTO analytics.raw_customers VALUES (74, 'Harry', 'A.');
INSERT INTO analytics.raw_customers VALUES (75, 'Andrea', 'H.');
INSERT INTO analytics.raw_customers VALUES (76, 'Barbara', 'W.');
INSERT INTO analytics.raw_customers VALUES (77, 'Anne', 'W.');
INSERT INTO analytics.raw_customers VALUES (78, 'Harry', 'H.');
INSERT INTO analytics.raw_customers VALUES (79, 'Jack', 'R.');
INSERT INTO analytics.raw_customers VALUES (80, 'Phillip', 'H.');
INSERT INTO analytics.raw_customers VALUES (81, 'Shirley', 'H.');
INSERT INTO analytics.raw_customers VALUES (82, 'Arthur', 'D.');
INSERT INTO analytics.raw_customers VALUES (83, 'Virginia', 'R.');
INSERT INTO analytics.raw_customers VALUES (84, 'Christina', 'R.');
INSERT INTO analytics.raw_customers VALUES (85, 'Theresa', 'M.');
INSERT INTO analytics.raw_customers VALUES (86, 'Jason', 'C.');
INSERT INTO analytics.raw_customers VALUES (87, 'Phillip', 'B.');
INSERT INTO analytics.raw_customers VALUES (88, 'Adam', 'T.');
INSERT INTO analytics.raw_customers VALUES (89, 'Margaret', 'J.');
INSERT INTO analytics.raw_customers VALUES (90, 'Paul', 'P.');
INSERT INTO analytics.raw_customers VALUES (91, 'Todd', 'W.');
INSERT INTO analytics.raw_customers VALUES (92, 'Willie', 'O.');
INSERT INTO analytics.raw_customers VALUES (93, 'Frances', 'R.');
INSERT INTO analytics.raw_customers VALUES (94, 'Gregory', 'H.');
INSERT INTO analytics.raw_customers VALUES (95, 'Lisa', 'P.');
INSERT INTO analytics.raw_customers VALUES (96, 'Jacqueline', 'A.');
INSERT INTO analytics.raw_customers VALUES (97, 'Shirley', 'D.');
INSERT INTO analytics.raw_customers VALUES (98, 'Nicole', 'M.');
INSERT INTO analytics.raw_customers VALUES (99, 'Mary', 'G.');
INSERT INTO analytics.raw_customers VALUES (100, 'Jean', 'M.');

--
-- Data for Name: raw_orders; Type: TABLE DATA; Schema: analytics; Owner: -
--

INSERT INTO analytics.raw_orders VALUES (1, 1, '2018-01-01', 'returned');
INSERT INTO analytics.raw_orders VALUES (2, 3, '2018-01-02', 'completed');
INSERT INTO analytics.raw_orders VALUES (3, 94, '2018-01-04', 'completed');
INSERT INTO analytics.raw_orders VALUES (4, 50, '2018-01-05', 'completed');
INSERT INTO analytics.raw_orders VALUES (5, 64, '2018-01-05', 'completed');
INSERT INTO analytics.raw_orders VALUES (6, 54, '2018-01-07', 'completed');
INSERT INTO analytics.raw_orders VALUES (7, 88, '2018-01-09', 'completed');
INSERT INTO analytics.raw_orders VALUES (8, 2, '2018-01-11', 'returned');
INSERT INTO analytics.raw_orders VALUES (9, 53, '2018-01-12', 'completed');
INSERT INTO analytics.raw_orders VALUES (10, 7, '2018-01-14', 'completed');
INSERT INTO analytics.raw_orders VALUES (11, 99, '2018-01-14', 'completed');
INSERT INTO analytics.raw_orders VALUES (12, 59, '2018-01-15', 'completed');
INSERT INTO analytics.raw_orders VALUES (13, 84, '2018-01-17', 'completed');
INSERT INTO analytics.raw_orders VALUES (14, 40, '2018-01-17', 'returned');
INSERT INTO analytics.raw_orders VALUES (15, 25, '2018-01-17', 'completed');
INSERT INTO analytics.raw_orders VALUES (16, 39, '2018-01-18', 'completed');
INSERT INTO analytics.raw_orders VALUES (17, 71, '2018-01-18', 'completed');
INSERT INTO analytics.raw_orders VALUES (18, 64, '2018-01-20', 'returned');
INSERT INTO analytics.raw_orders VALUES (19, 54, '2018-01-22', 'completed');
INSERT INTO analytics.raw_orders VALUES (20, 20, '2018-01-23', 'completed');
INSERT INTO analytics.raw_orders VALUES (21, 71, '2018-01-23', 'completed');
INSERT INTO analytics.raw_orders VALUES (22, 86, '2018-01-24', 'completed');
INSERT INTO analytics.raw_orders VALUES (23, 22, '2018-01-26', 'return_pending');
INSERT INTO analytics.raw_orders VALUES (24, 3, '2018-01-27', 'completed');
INSERT INTO analytics.raw_orders VALUES (25, 51, '2018-01-28', 'completed');
INSERT INTO analytics.raw_orders VALUES (26, 32, '2018-01-28', 'completed');
INSERT INTO analytics.raw_orders VALUES (27, 94, '2018-01-29', 'completed');
INSERT INTO analytics.raw_orders VALUES (28, 8, '2018-01-29', 'completed');
INSERT INTO analytics.raw_orders VALUES (29, 57, '2018-01-31', 'completed');
INSERT INTO analytics.raw_orders VALUES (30, 69, '2018-02-02', 'completed');
INSERT INTO analytics.raw_orders VALUES (31, 16, '2018-02-02', 'completed');
INSERT INTO analytics.raw_orders VALUES (32, 28, '2018-02-04', 'completed');
INSERT INTO analytics.raw_orders VALUES (33, 42, '2018-02-04', 'completed');
INSERT INTO analytics.raw_orders VALUES (34, 38, '2018-02-06', 'completed');
INSERT INTO analytics.raw_orders VALUES (35, 80, '2018-02-08', 'completed');
INSERT INTO analytics.raw_orders VALUES (36, 85, '2018-02-10', 'completed');
INSERT INTO analytics.raw_orders VALUES (37, 1, '2018-02-10', 'completed');
INSERT INTO analytics.raw_orders VALUES (38, 51, '2018-02-10', 'completed');
INSERT INTO analytics.raw_orders VALUES (39, 26, '2018-02-11', 'completed');
INSERT INTO analytics.raw_orders VALUES (40, 33, '2018-02-13', 'completed');
INSERT INTO analytics.raw_orders VALUES (41, 99, '2018-02-14', 'completed');
INSERT INTO analytics.raw_orders VALUES (42, 92, '2018-02-16', 'completed');
INSERT INTO analytics.raw_orders VALUES (43, 31, '2018-02-17', 'completed');
INSERT INTO analytics.raw_orders VALUES (44, 66, '2018-02-17', 'completed');
INSERT INTO analytics.raw_orders VALUES (45, 22, '2018-02-17', 'completed');
INSERT INTO analytics.raw_orders VALUES (46, 6, '2018-02-19', 'completed');
INSERT INTO analytics.raw_orders VALUES (47, 50, '2018-02-20', 'completed');
INSERT INTO analytics.raw_orders VALUES (48, 27, '2018-02-21', 'completed');
INSERT INTO analytics.raw_orders VALUES (49, 35, '2018-02-21', 'completed');
INSERT INTO analytics.raw_orders VALUES (50, 51, '2018-02-23', 'completed');
INSERT INTO analytics.raw_orders VALUES (51, 71, '2018-02-24', 'completed');
INSERT INTO analytics.raw_orders VALUES (52, 54, '2018-02-25', 'return_pending');
INSERT INTO analytics.raw_orders VALUES (53, 34, '2018-02-26', 'completed');
INSERT INTO analytics.raw_orders VALUES (54, 54, '2018-02-26', 'completed');
INSERT INTO analytics.raw_orders VALUES (55, 18, '2018-02-27', 'completed');
INSERT INTO analytics.raw_orders VALUES (56, 79, '2018-02-28', 'completed');
INSERT INTO analytics.raw_orders VALUES (57, 93, '2018-03-01', 'completed');
INSERT INTO analytics.raw_orders VALUES (58, 22, '2018-03-01', 'completed');
INSERT INTO analytics.raw_orders VALUES (59, 30, '2018-03-02', 'completed');
INSERT INTO analytics.raw_orders VALUES (60, 12, '2018-03-03', 'completed');
INSERT INTO analytics.raw_orders VALUES (61, 63, '2018-03-03', 'completed');
INSERT INTO analytics.raw_orders VALUES (62, 57, '2018-03-05', 'completed');
INSERT INTO analytics.raw_orders VALUES (63, 70, '2018-03-06', 'completed');
INSERT INTO analytics.raw_orders VALUES (64, 13, '2018-03-07', 'completed');
INSERT INTO analytics.raw_orders VALUES (65, 26, '2018-03-08', 'completed');
INSERT INTO analytics.raw_orders VALUES (66, 36, '2018-03-10', 'completed');
INSERT INTO analytics.raw_orders VALUES (67, 79, '2018-03-11', 'completed');
INSERT INTO analytics.raw_orders VALUES (68, 53, '2018-03-11', 'completed');
INSERT INTO analytics.raw_orders VALUES (69, 3, '2018-03-11', 'completed');
INSERT INTO analytics.raw_orders VALUES (70, 8, '2018-03-12', 'completed');
INSERT INTO analytics.raw_orders VALUES (71, 42, '2018-03-12', 'shipped');
INSERT INTO analytics.raw_orders VALUES (72, 30, '2018-03-14', 'shipped');
INSERT INTO analytics.raw_orders VALUES (73, 19, '2018-03-16', 'completed');
INSERT INTO analytics.raw_orders VALUES (74, 9, '2018-03-17', 'shipped');
INSERT INTO analytics.raw_orders VALUES (75, 69, '2018-03-18', 'completed');
INSERT INTO analytics.raw_orders VALUES (76, 25, '2018-03-20', 'completed');
INSERT INTO analytics.raw_orders VALUES (77, 35, '2018-03-21', 'shipped');
INSERT INTO analytics.raw_orders VALUES (78, 90, '2018-03-23', 'shipped');
INSERT INTO analytics.raw_orders VALUES (79, 52, '2018-03-23', 'shipped');
INSERT INTO analytics.raw_orders VALUES (80, 11, '2018-03-23', 'shipped');
INSERT INTO analytics.raw_orders VALUES (81, 76, '2018-03-23', 'shipped');
INSERT INTO analytics.raw_orders VALUES (82, 46, '2018-03-24', 'shipped');
INSERT INTO analytics.raw_orders VALUES (83, 54, '2018-03-24', 'shipped');
INSERT INTO analytics.raw_orders VALUES (84, 70, '2018-03-26', 'placed');
INSERT INTO analytics.raw_orders VALUES (85, 47, '2018-03-26', 'shipped');
INSERT INTO analytics.raw_orders VALUES (86, 68, '2018-03-26', 'placed');
INSERT INTO analytics.raw_orders VALUES (87, 46, '2018-03-27', 'placed');
INSERT INTO analytics.raw_orders VALUES (88, 91, '2018-03-27', 'shipped');
INSERT INTO analytics.raw_orders VALUES (89, 21, '2018-03-28', 'placed');
INSERT INTO analytics.raw_orders VALUES (90, 66, '2018-03-30', 'shipped');
INSERT INTO analytics.raw_orders VALUES (91, 47, '2018-03-31', 'placed');
INSERT INTO analytics.raw_orders VALUES (92, 84, '2018-04-02', 'placed');
INSERT INTO analytics.raw_orders VALUES (93, 66, '2018-04-03', 'placed');
INSERT INTO analytics.raw_orders VALUES (94, 63, '2018-04-03', 'placed');
INSERT INTO analytics.raw_orders VALUES (95, 27, '2018-04-04', 'placed');
INSERT INTO analytics.raw_orders VALUES (96, 90, '2018-04-06', 'placed');
INSERT INTO analytics.raw_orders VALUES (97, 89, '2018-04-07', 'placed');
INSERT INTO analytics.raw_orders VALUES (98, 41, '2018-04-07', 'placed');
INSERT INTO analytics.raw_orders VALUES (99, 85, '2018-04-09', 'placed');

--
-- Data for Name: raw_payments; Type: TABLE DATA; Schema: analytics; Owner: -
--

INSERT INTO analytics.raw_payments VALUES (1, 1, 'credit_card', 1000);
INSERT INTO analytics.raw_payments VALUES (2, 2, 'credit_card', 2000);
INSERT INTO analytics.raw_payments VALUES (3, 3, 'coupon', 100);
INSERT INTO analytics.raw_payments VALUES (4, 4, 'coupon', 2500);
INSERT INTO analytics.raw_payments VALUES (5, 5, 'bank_transfer', 1700);
INSERT INTO analytics.raw_payments VALUES (6, 6, 'credit_card', 600);
INSERT INTO analytics.raw_payments VALUES (7, 7, 'credit_card', 1600);
INSERT INTO analytics.raw_payments VALUES (8, 8, 'credit_card', 2300);
INSERT INTO analytics.raw_payments VALUES (9, 9, 'gift_card', 2300);
INSERT INTO analytics.raw_payments VALUES (10, 9, 'bank_transfer', 0);
INSERT INTO analytics.raw_payments VALUES (11, 10, 'bank_transfer', 2600);
INSERT INTO analytics.raw_payments VALUES (12, 11, 'credit_card', 2700);
INSERT INTO analytics.raw_payments VALUES (13, 12, 'credit_card', 100);
INSERT INTO analytics.raw_payments VALUES (14, 13, 'credit_card', 500);
INSERT INTO analytics.raw_payments VALUES (15, 13, 'bank_transfer', 1400);
INSERT INTO analytics.raw_payments VALUES (16, 14, 'bank_transfer', 300);
INSERT INTO analytics.raw_payments VALUES (17, 15, 'coupon', 2200);
INSERT INTO analytics.raw_payments VALUES (18, 16, 'credit_card', 1000);
INSERT INTO analytics.raw_payments VALUES (19, 17, 'bank_transfer', 200);
INSERT INTO analytics.raw_payments VALUES (20, 18, 'credit_card', 500);
INSERT INTO analytics.raw_payments VALUES (21, 18, 'credit_card', 800);
INSERT INTO analytics.raw_payments VALUES (22, 19, 'gift_card', 600);
INSERT INTO analytics.raw_payments VALUES (23, 20, 'bank_transfer', 1500);
INSERT INTO analytics.raw_payments VALUES (24, 21, 'credit_card', 1200);
INSERT INTO analytics.raw_payments VALUES (25, 22, 'bank_transfer', 800);
INSERT INTO analytics.raw_payments VALUES (26, 23, 'gift_card', 2300);
INSERT INTO analytics.raw_payments VALUES (27, 24, 'coupon', 2600);
INSERT INTO analytics.raw_payments VALUES (28, 25, 'bank_transfer', 2000);
INSERT INTO analytics.raw_payments VALUES (29, 25, 'credit_card', 2200);
INSERT INTO analytics.raw_payments VALUES (30, 25, 'coupon', 1600);
INSERT INTO analytics.raw_payments VALUES (31, 26, 'credit_card', 3000);
INSERT INTO analytics.raw_payments VALUES (32, 27, 'credit_card', 2300);
INSERT INTO analytics.raw_payments VALUES (33, 28, 'bank_transfer', 1900);
INSERT INTO analytics.raw_payments VALUES (34, 29, 'bank_transfer', 1200);
INSERT INTO analytics.raw_payments VALUES (35, 30, 'credit_card', 1300);
INSERT INTO analytics.raw_payments VALUES (36, 31, 'credit_card', 1200);
INSERT INTO analytics.raw_payments VALUES (37, 32, 'credit_card', 300);
INSERT INTO analytics.raw_payments VALUES (38, 33, 'credit_card', 2200);
INSERT INTO analytics.raw_payments VALUES (39, 34, 'bank_transfer', 1500);
INSERT INTO analytics.raw_payments VALUES (40, 35, 'credit_card', 2900);
INSERT INTO analytics.raw_payments VALUES (41, 36, 'bank_transfer', 900);
INSERT INTO analytics.raw_payments VALUES (42, 37, 'credit_card', 2300);
INSERT INTO analytics.raw_payments VALUES (43, 38, 'credit_card', 1500);
INSERT INTO analytics.raw_payments VALUES (44, 39, 'bank_transfer', 800);
INSERT INTO analytics.raw_payments VALUES (45, 40, 'credit_card', 1400);
INSERT INTO analytics.raw_payments VALUES (46, 41, 'credit_card', 1700);
INSERT INTO analytics.raw_payments VALUES (47, 42, 'coupon', 1700);
INSERT INTO analytics.raw_payments VALUES (48, 43, 'gift_card', 1800);
INSERT INTO analytics.raw_payments VALUES (49, 44, 'gift_card', 1100);
INSERT INTO analytics.raw_payments VALUES (50, 45, 'bank_transfer', 500);
INSERT INTO analytics.raw_payments VALUES (51, 46, 'bank_transfer', 800);
INSERT INTO analytics.raw_payments VALUES (52, 47, 'credit_card', 2200);
INSERT INTO analytics.raw_payments VALUES (53, 48, 'bank_transfer', 300);
INSERT INTO analytics.raw_payments VALUES (54, 49, 'credit_card', 600);
INSERT INTO analytics.raw_payments VALUES (55, 49, 'credit_card', 900);
INSERT INTO analytics.raw_payments VALUES (56, 50, 'credit_card', 2600);
INSERT INTO analytics.raw_payments VALUES (57, 51, 'credit_card', 2900);
INSERT INTO analytics.raw_payments VALUES (58, 51, 'credit_card', 100);
INSERT INTO analytics.raw_payments VALUES (59, 52, 'bank_transfer', 1500);
INSERT INTO analytics.raw_payments VALUES (60, 53, 'credit_card', 300);
INSERT INTO analytics.raw_payments VALUES (61, 54, 'credit_card', 1800);
INSERT INTO analytics.raw_payments VALUES (62, 54, 'bank_transfer', 1100);
INSERT INTO analytics.raw_payments VALUES (63, 55, 'credit_card', 2900);
INSERT INTO analytics.raw_payments VALUES (64, 56, 'credit_card', 400);
INSERT INTO analytics.raw_payments VALUES (65, 57, 'bank_transfer', 200);
INSERT INTO analytics.raw_payments VALUES (66, 58, 'coupon', 1800);
INSERT INTO analytics.raw_payments VALUES (67, 58, 'gift_card', 600);
INSERT INTO analytics.raw_payments VALUES (68, 59, 'gift_card', 2800);
INSERT INTO analytics.raw_payments VALUES (69, 60, 'credit_card', 400);
INSERT INTO analytics.raw_payments VALUES (70, 61, 'bank_transfer', 1600);
INSERT INTO analytics.raw_payments VALUES (71, 62, 'gift_card', 1400);
INSERT INTO analytics.raw_payments VALUES (72, 63, 'credit_card', 2900);
INSERT INTO analytics.raw_payments VALUES (73, 64, 'bank_transfer', 2600);
INSERT INTO analytics.raw_payments VALUES (74, 65, 'credit_card', 0);
INSERT INTO analytics.raw_payments VALUES (75, 66, 'credit_card', 2800);
INSERT INTO analytics.raw_payments VALUES (76, 67, 'bank_transfer', 400);
INSERT INTO analytics.raw_payments VALUES (77, 67, 'credit_card', 1900);
INSERT INTO analytics.raw_payments VALUES (78, 68, 'credit_card', 1600);
INSERT INTO analytics.raw_payments VALUES (79, 69, 'credit_card', 1900);
INSERT INTO analytics.raw_payments VALUES (80, 70, 'credit_card', 2600);
INSERT INTO analytics.raw_payments VALUES (81, 71, 'credit_card', 500);
INSERT INTO analytics.raw_payments VALUES (82, 72, 'credit_card', 2900);
INSERT INTO analytics.raw_payments VALUES (83, 73, 'bank_transfer', 300);
INSERT INTO analytics.raw_payments VALUES (84, 74, 'credit_card', 3000);
INSERT INTO analytics.raw_payments VALUES (85, 75, 'credit_card', 1900);
INSERT INTO analytics.raw_payments VALUES (86, 76, 'coupon', 200);
INSERT INTO analytics.raw_payments VALUES (87, 77, 'credit_card', 0);
INSERT INTO analytics.raw_payments VALUES (88, 77, 'bank_transfer', 1900);
INSERT INTO analytics.raw_payments VALUES (89, 78, 'bank_transfer', 2600);
INSERT INTO analytics.raw_payments VALUES (90, 79, 'credit_card', 1800);
INSERT INTO analytics.raw_payments VALUES (91, 79, 'credit_card', 900);
INSERT INTO analytics.raw_payments VALUES (92, 80, 'gift_card', 300);
INSERT INTO analytics.raw_payments VALUES (93, 81, 'coupon', 200);
INSERT INTO analytics.raw_payments VALUES (94, 82, 'credit_card', 800);
INSERT INTO analytics.raw_payments VALUES (95, 83, 'credit_card', 100);
INSERT INTO analytics.raw_payments VALUES (96, 84, 'bank_transfer', 2500);
INSERT INTO analytics.raw_payments VALUES (97, 85, 'bank_transfer', 1700);
INSERT INTO analytics.raw_payments VALUES (98, 86, 'coupon', 2300);
INSERT INTO analytics.raw_payments VALUES (99, 87, 'gift_card', 3000);
INSERT INTO analytics.raw_payments VALUES (100, 87, 'credit_card', 2600);
INSERT INTO analytics.raw_payments VALUES (101, 88, 'credit_card', 2900);
INSERT INTO analytics.raw_payments VALUES (102, 89, 'bank_transfer', 2200);
INSERT INTO analytics.raw_payments VALUES (103, 90, 'bank_transfer', 200);
INSERT INTO analytics.raw_payments VALUES (104, 91, 'credit_card', 1900);
INSERT INTO analytics.raw_payments VALUES (105, 92, 'bank_transfer', 1500);
INSERT INTO analytics.raw_payments VALUES (106, 92, 'coupon', 200);
INSERT INTO analytics.raw_payments VALUES (107, 93, 'gift_card', 2600);
INSERT INTO analytics.raw_payments VALUES (108, 94, 'coupon', 700);
INSERT INTO analytics.raw_payments VALUES (109, 95, 'coupon', 2400);
INSERT INTO analytics.raw_payments VALUES (110, 96, 'gift_card', 1700);
INSERT INTO analytics.raw_payments VALUES (111, 97, 'bank_transfer', 1400);
INSERT INTO analytics.raw_payments VALUES (112, 98, 'bank_transfer', 1000);
INSERT INTO analytics.raw_payments VALUES (113, 99, 'credit_card', 2400);

--
--

