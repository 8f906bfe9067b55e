# A database on the PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth), made with built-ins only:
# provisioners run psql. Terraform cannot refresh a terraform_data, so the module reads a probe to notice a
# database dropped by hand: a view `pave_probe_<name>.states` in the `postgres` database that the built-in
# `pg` backend reads as a Terraform state whose output `exists` says whether the database is there.

variable "name" {
  type = string
}

variable "password" {
  type = string
}

variable "delay_seconds" {
  type    = number
  default = 0
}

variable "fail" {
  type    = bool
  default = false
}

resource "terraform_data" "database" {
  triggers_replace = [var.name]
  input            = { name = var.name }

  provisioner "local-exec" {
    environment = { PGPASSWORD = var.password }
    command     = <<-SH
      set -e
      sleep ${var.delay_seconds}
      psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qc "CREATE SCHEMA pave_probe_${var.name}; CREATE VIEW pave_probe_${var.name}.states AS SELECT 1 AS id, 'default'::text AS name, json_build_object('version', 4, 'serial', 1, 'lineage', 'probe', 'terraform_version', '1.11.0', 'resources', json_build_array(), 'outputs', json_build_object('exists', json_build_object('type', 'bool', 'value', EXISTS (SELECT FROM pg_database WHERE datname = '${var.name}'))))::text AS data"
      psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qc 'CREATE DATABASE "${var.name}"'
    SH
  }

  provisioner "local-exec" {
    when    = destroy
    command = "psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qc 'DROP DATABASE IF EXISTS \"${self.input.name}\"' -c 'DROP SCHEMA IF EXISTS pave_probe_${self.input.name} CASCADE'"
  }
}

# Fails after the database exists when `fail` is set: a create that fails part way.
resource "terraform_data" "after" {
  depends_on = [terraform_data.database]
  input      = var.fail

  provisioner "local-exec" {
    command = var.fail ? "echo 'failing on purpose' >&2; exit 3" : "true"
  }
}

data "terraform_remote_state" "probe" {
  backend = "pg"
  config = {
    conn_str             = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
    schema_name          = "pave_probe_${terraform_data.database.output.name}"
    skip_schema_creation = true
    skip_table_creation  = true
    skip_index_creation  = true
  }
}

# Continuous validation: a refresh (`pave resources check`) reports the database dropped by hand.
check "database_exists" {
  assert {
    condition     = data.terraform_remote_state.probe.outputs.exists
    error_message = "database ${var.name} is gone"
  }
}

output "host" {
  value = "127.0.0.1"
}

output "port" {
  value = 5432
}

output "name" {
  value = terraform_data.database.output.name
}

output "database" {
  value = terraform_data.database.output.name
}

output "username" {
  value = "postgres"
}

output "password" {
  value     = var.password
  sensitive = true
}

output "url" {
  value     = "postgres://postgres:${var.password}@127.0.0.1:5432/${terraform_data.database.output.name}"
  sensitive = true
}

output "exists" {
  value = data.terraform_remote_state.probe.outputs.exists
}
