/* job — see job.h. */
#include "job.h"

#include <stdlib.h>

void mnv2d_job_free(mnv2d_job *j)
{
	if (!j)
		return;
	if (j->req)
		mnv2__request__free_unpacked(j->req, NULL);
	free(j->frame);
	mnv2d_modelset_unref(j->set);
	free(j);
}
