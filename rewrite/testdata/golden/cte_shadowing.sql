-- a CTE named like a relation hides it only where it is visible
with stg_orders as (select * from dbt_fabio.stg_orders),
     totals as (select * from stg_orders join customers using (customer_id))
select * from totals, (with customers as (select 1 as customer_id) select * from customers) inner_c
where exists (select 1 from stg_orders)
union all
select * from customers;
with recursive tree as (
    select id, parent from dbt_fabio.nodes where parent is null
  union all
    select n.id, n.parent from dbt_fabio.nodes n join tree t on n.parent = t.id
)
select * from tree;
with a as (select * from b), b as (select * from a) select * from b;
with x as (delete from dbt_fabio.stale returning *) insert into x select * from x;
