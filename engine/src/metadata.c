#include "model.h"
int mnv2_metadata_read(mnv2_model *m, mnv2_error *err) { (void)m; (void)err; return 0; }
