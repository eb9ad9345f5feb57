{#- dbt's default query comment plus invocation_id (SPEC §4.3): with it deferproxy knows every node selected in the
    current invocation. -#}
{% macro query_comment(node, connection_name) %}
    {%- set comment_dict = {} -%}
    {%- do comment_dict.update(
        app='dbt',
        dbt_version=dbt_version,
        profile_name=target.get('profile_name'),
        target_name=target.get('target_name'),
    ) -%}
    {%- if node is not none -%}
      {%- do comment_dict.update(node_id=node.unique_id) -%}
    {% else %}
      {%- do comment_dict.update(connection_name=connection_name) -%}
    {%- endif -%}
    {%- do comment_dict.update(invocation_id=invocation_id) -%}
    {{ return(tojson(comment_dict)) }}
{% endmacro %}
