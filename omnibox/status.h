/* status.h - --json-status: how a run ended and which layers it had. */
#ifndef OMBX_STATUS_H
#define OMBX_STATUS_H

#include <jansson.h>

#include "omnibox.h"

/* The layers as JSON (also used by doctor). New reference. */
json_t *ombx_layers_json(const struct ombx_layers *l);

/* Writes the status atomically (temporary file + rename). failure, if not
 * NULL, is the error that stopped the command from starting. */
int ombx_status_write(const char *path, const struct ombx_result *res, const ombx_err *failure,
		      ombx_err *err);

#endif
