/* status.c - see status.h. */
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
	unsigned flag;
	const char *name;
} ns_names[] = {
	{CLONE_NEWUSER, "user"}, {CLONE_NEWNS, "mount"}, {CLONE_NEWPID, "pid"},
	{CLONE_NEWNET, "net"},   {CLONE_NEWIPC, "ipc"},  {CLONE_NEWUTS, "uts"},
	{CLONE_NEWCGROUP, "cgroup"},
};

json_t *ombx_layers_json(const struct ombx_layers *l)
{
	json_t *ns = json_array();

	for (size_t i = 0; i < sizeof(ns_names) / sizeof(ns_names[0]); i++)
		if (l->namespaces & ns_names[i].flag)
			json_array_append_new(ns, json_string(ns_names[i].name));
	return json_pack("{s:o, s:i, s:b, s:b, s:s, s:b, s:s, s:i, s:I, s:I, s:f, s:{s:i, s:i}, s:{s:i, s:i}}",
			 "namespaces", ns, "landlock_abi", l->landlock_abi,
			 "landlock_net", l->landlock_net, "landlock_scoped", l->landlock_scoped,
			 "seccomp", l->seccomp_mode ? l->seccomp_mode : "none",
			 "no_new_privs", l->seccomp_mode != NULL,
			 "capabilities", "none", "cgroup_version", l->cgroup_version,
			 "memory_max", (json_int_t)l->memory_max, "pids_max", (json_int_t)l->pids_max,
			 "cpus", l->cpus,
			 "jail_ids", "uid", (int)l->jail_uid, "gid", (int)l->jail_gid,
			 "host_ids", "uid", (int)l->host_uid, "gid", (int)l->host_gid);
}

int ombx_status_write(const char *path, const struct ombx_result *res, const ombx_err *failure,
		      ombx_err *err)
{
	char tmp[4096];
	json_t *j;
	int fd, r;

	/* A command that never started had no layers: null, not a list of
	 * defaults that could be read as "applied". */
	j = json_pack("{s:s, s:i, s:i, s:b, s:b, s:f, s:o, s:b}", "jail_id", res->jail_id,
		      "exit_code", res->exit_code, "signal", res->signal, "oom", res->oom,
		      "timed_out", res->timed_out, "duration_sec", res->duration_sec, "layers",
		      failure ? json_null() : ombx_layers_json(&res->layers), "started", !failure);
	if (!j)
		return ombx_err_set(err, ENOMEM, "building the status");
	if (failure)
		json_object_set_new(j, "error", json_string(failure->msg));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, getpid()) >= sizeof(tmp)) {
		json_decref(j);
		return ombx_err_set(err, ENAMETOOLONG, "%s: path too long", path);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		json_decref(j);
		return ombx_err_errno(err, errno, "creating %s", tmp);
	}
	r = json_dumpfd(j, fd, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	if (r == 0 && write(fd, "\n", 1) != 1)
		r = -1;
	if (close(fd) < 0 || r < 0 || rename(tmp, path) < 0) {
		r = errno ? errno : EIO;
		unlink(tmp);
		return ombx_err_errno(err, r, "writing %s", path);
	}
	return 0;
}
