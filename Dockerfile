# The profefe image for deploy/kubernetes: one binary, `profefe serve | scrape | agent | ...`.
#   docker build -t profefe:0.1.0 .
# Built from the SDK's image and run on the ASP.NET Core runtime image (the collector is an ASP.NET Core app),
# as its non-root user 1654 ("app"), which the manifests' securityContext expects.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
RUN dotnet publish src/Profefe.Cli/Profefe.Cli.csproj -c Release -o /app --no-self-contained

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
USER 1654
# The collector's port; `serve` listens on it when PROFEFE_Collector__Address is ":10100".
EXPOSE 10100
ENTRYPOINT ["/app/profefe"]
CMD ["serve", "--addr", ":10100"]
