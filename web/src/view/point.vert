// GL points, one per node or edge sample (world space): small fixed-size dots, the cheapest overview of where
// the samples are (the sphere modes show their sizes).

uniform float importanceThreshold;
uniform float pointPixels;  // dot diameter in drawing-buffer pixels

in vec4 colour;
in vec2 scoreAndT;

out vec4 vColour;
out float vDepthView;

const vec4 CULLED = vec4(2.0, 2.0, 2.0, 1.0);

void main() {
  if (scoreAndT.x <= importanceThreshold || importanceTerm(colour.a) <= 0.0) {
    gl_Position = CULLED;
    gl_PointSize = 0.0;
    return;
  }
  vec4 positionView = modelViewMatrix * vec4(position, 1.0);
  vColour = colour;
  vDepthView = -positionView.z;
  gl_PointSize = pointPixels;
  gl_Position = projectionMatrix * positionView;
}
