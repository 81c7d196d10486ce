module github.com/provisiond/provisiond

go 1.26.0

require (
	github.com/go-ozzo/ozzo-validation/v4 v4.4.1
	github.com/google/uuid v1.6.0
)

require github.com/asaskevich/govalidator v0.0.0-20210307081110-f21760c49a8d // indirect
