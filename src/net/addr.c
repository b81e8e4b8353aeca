/* placeholder until the address module lands */
typedef int tw_net_placeholder;
