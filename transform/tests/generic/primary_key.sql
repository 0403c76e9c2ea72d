{#
  The columns are a key: no two rows share them and none of them is null (one query instead of a
  unique test plus a not_null test per column).
#}
{% test primary_key(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
    {%- for column in columns %} or {{ column }} is null{% endfor %}
{% endtest %}
