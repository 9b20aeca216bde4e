# entente in a container: built in one stage, run as a non-root user in a slim one,
# the database on a volume.
#
#   docker build -t entente .
#   docker run -d --name entente -p 8080:8080 -v entente-data:/var/lib/entente \
#       -v "$PWD/feeds.toml:/etc/entente/feeds.toml:ro" entente
#
# A mounted feeds.toml must set  database = "/var/lib/entente/entente.db"  and its
# `rules` file must be mounted beside it (or use the copies baked in below); set its
# `public_url` to the address subscribers use, since every published link starts there.
# Reload: docker kill --signal HUP entente. Back up: docker exec entente entente
# --config /etc/entente/feeds.toml backup /var/lib/entente/backup.db

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin entente

FROM debian:bookworm-slim
# TLS roots are compiled in (rustls with webpki roots); SQLite too.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/entente entente \
    && install -d -o entente -g entente -m 0750 /var/lib/entente \
    && install -d /etc/entente
COPY --from=build /src/target/release/entente /usr/local/bin/entente
COPY feeds.toml rules.toml /etc/entente/
# The shipped config keeps its database beside it; in the image it goes to the volume.
RUN sed -i 's|^database = .*|database = "/var/lib/entente/entente.db"|' /etc/entente/feeds.toml \
    && grep -q '^database = "/var/lib/entente/entente.db"' /etc/entente/feeds.toml
USER entente
WORKDIR /var/lib/entente
VOLUME ["/var/lib/entente"]
EXPOSE 8080
STOPSIGNAL SIGTERM
# No MALLOC_ARENA_MAX: the binary runs in one glibc malloc arena unless it is set
# (BENCHMARKS.md, "branch mem5").
ENTRYPOINT ["/usr/local/bin/entente", "--config", "/etc/entente/feeds.toml"]
CMD ["run", "--listen", "0.0.0.0:8080"]
