# nnscape's viewer server in a container: `nnscape view /data` on port 8000, CPU only, no display, not root.
#
#   docker build -t nnscape .
#   docker run --rm -p 8000:8000 -v "$PWD/networks:/data" nnscape
#
# The server listens on every address inside the container, so it requires the access token it prints:
# open the printed http://127.0.0.1:8000/?token=… address (`docker logs` shows it). See docs/deploy.md.
#
# Build arguments:
#   BASE               a Debian bookworm image (default: the public one; any image with apt and bookworm's
#                      python3 will do, e.g. one made with debootstrap where registries are out of reach)
#   TORCH              the torch requirement (default: the newest)
#   TORCH_PIP_OPTIONS  where pip finds it (default: PyTorch's CPU-only wheels, a tenth of the CUDA build's size)
ARG BASE=docker.io/library/debian:bookworm-slim

# Stage 1: the wheel, with the browser viewer bundled into it (needs Node.js and npm, left behind).
FROM ${BASE} AS wheel
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/build && /opt/build/bin/pip install --no-cache-dir --quiet build
COPY . /src
WORKDIR /src
RUN /opt/build/bin/python -m build --wheel --outdir /dist .

# Stage 2: Python, CPU-only torch and the wheel; nothing else.
FROM ${BASE}
ARG TORCH=torch
ARG TORCH_PIP_OPTIONS="--index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin nnscape \
 && mkdir /data && chown nnscape:nnscape /data
ENV VIRTUAL_ENV=/opt/nnscape PATH=/opt/nnscape/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
# Torch first, from the CPU index; the wheel's own requirement on torch is then already met.
RUN python3 -m venv /opt/nnscape \
 && pip install --no-cache-dir --quiet ${TORCH_PIP_OPTIONS} "${TORCH}"
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-cache-dir --quiet /tmp/dist/*.whl && rm -rf /tmp/dist
USER nnscape
WORKDIR /data
VOLUME /data
EXPOSE 8000
ENTRYPOINT ["nnscape", "view", "/data", "--host", "0.0.0.0", "--port", "8000", "--no-browser"]
