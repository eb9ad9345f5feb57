{#- Production: every node in the target schema. Development: one schema per folder, <target schema>_<folder>
    (seeds: <target schema>_seeds). Not dbt's default and not generate_schema_name_for_env, so deferproxy cannot
    derive dev relations from the production manifest: it needs the dev manifest. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- if target.name == 'prod' -%}
    {{ target.schema }}
  {%- elif node.fqn | length > 2 -%}
    {{ target.schema }}_{{ node.fqn[1] }}
  {%- else -%}
    {{ target.schema }}_{{ node.resource_type }}s
  {%- endif -%}
{%- endmacro %}
