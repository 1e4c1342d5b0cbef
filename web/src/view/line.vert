// Edge polylines as GL lines: one vertex per sample (world space), indexed pairs i, i + 1 within an edge.

in vec4 colour;
in vec2 scoreAndT;

out vec4 vColour;
out float vScore;
out float vDepthView;

void main() {
  vec4 positionView = modelViewMatrix * vec4(position, 1.0);
  vColour = colour;
  vScore = scoreAndT.x;
  vDepthView = -positionView.z;
  gl_Position = projectionMatrix * positionView;
}
