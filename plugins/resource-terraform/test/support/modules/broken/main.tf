variable "name" {
  type = string
}

resource "terraform_data" "database" {
  input =
}
