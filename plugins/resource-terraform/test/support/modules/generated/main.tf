# Makes its own secret (a random-looking token, built-ins only) and outputs it without `sensitive = true`, as a
# module may: Terraform then prints its value after an apply and in plans. Nothing outside the state.

variable "label" {
  type = string
}

resource "terraform_data" "token" {
  input = substr(sha256(uuid()), 0, 24)

  lifecycle {
    ignore_changes = [input]
  }
}

output "password" {
  value = terraform_data.token.output
}

output "settings" {
  value = {
    label = var.label
    url   = "postgres://app:${terraform_data.token.output}@127.0.0.1:5432/app"
  }
}

output "greeting" {
  value = "hello-${var.label}"
}
