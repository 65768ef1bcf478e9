-- shared piece loyalty_states_kept: in mart_loyalty_customers on an order append (in place of loyalty_states_all): the
--   rung states of the customers outside the build's scope, as mart_loyalty_customers kept them (temp table
--   _loyalty_states_kept, made by crmlens.model.build with the columns of rung_states), after those worked out again
    union all by name
    select * from _loyalty_states_kept
