/* Policies by name, for configuration files and gpuvmctl. */
#include <stddef.h>
#include <strings.h>

#include "sched_policy.h"

static const struct sched_policy *const policies[] = {
	&sched_policy_direct,
	&sched_policy_fifo,
	&sched_policy_credit,
	&sched_policy_band,
};

/* Names are matched without regard to case: the papers write CREDIT, BAND. */
const struct sched_policy *sched_policy_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (strcasecmp(policies[i]->name, name) == 0)
			return policies[i];
	return NULL;
}
