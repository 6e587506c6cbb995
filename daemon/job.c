/* job — see job.h. */
#include "job.h"

#include <stdlib.h>
#include <unistd.h>

void mnv2d_job_close_fd(mnv2d_job *j)
{
	if (j->has_fd)
		close(j->fd);
	j->has_fd = 0;
	j->fd = -1;
}

void mnv2d_job_free(mnv2d_job *j)
{
	if (!j)
		return;
	if (j->req)
		mnv2__request__free_unpacked(j->req, NULL);
	mnv2d_job_close_fd(j);
	free(j->frame);
	mnv2d_modelset_unref(j->set);
	free(j);
}
