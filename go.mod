module github.com/boretray/bore

go 1.26.0
