// Impostor quads: one camera-facing quad per sphere (a node or an edge sample) or, with SEGMENT defined, per
// polyline segment (an ellipsoid stretched along it). Instance inputs are in world space (the network object
// has no transform, so world = model space); the quad is built in view space so that it covers the
// primitive's projection, and impostor.frag ray casts the exact surface per pixel.

uniform float size;
uniform float importanceThreshold;

#ifdef SEGMENT
// Consecutive samples i and i + 1 of the one sample buffer; the segment is real when t increases.
in vec3 startWorld;
in vec3 endWorld;
in vec4 startColour;
in vec4 endColour;
in vec2 startScoreAndT;
in vec2 endScoreAndT;
#else
in vec3 centreWorld;
in vec4 colour;
in vec2 scoreAndT;
#endif

flat out vec3 vCentreView;
flat out vec3 vAxisView;   // unit long axis of the ellipsoid (any unit vector for a sphere)
flat out vec2 vRadii;      // (long radius, short radius)
flat out vec2 vAlongLimits; // hits beyond these (in long radii from the centre) are past the edge's end nodes
flat out vec4 vColourStart;
flat out vec4 vColourEnd;
out vec3 vQuadView;        // this corner of the quad; the ray from the camera through it

const float ELLIPSOID_STRETCH = 1.5;     // long radius = half segment · (1 + 1.5 · importance) + r
const float MAX_PERSPECTIVE_GROWTH = 8.0;
const vec4 CULLED = vec4(2.0, 2.0, 2.0, 1.0);  // outside the clip volume: the quad is dropped
const float NO_LIMIT = 2.0;                     // beyond the ellipsoid's own extent of ±1

void main() {
  // `size` is in the network's units; when the network is scaled (in VR) its radii scale with it.
  float sizeView = size * length(modelViewMatrix[0].xyz);
#ifdef SEGMENT
  float score = 0.5 * (startScoreAndT.x + endScoreAndT.x);
  bool visible = endScoreAndT.y > startScoreAndT.y;
  vec3 centreWorld = 0.5 * (startWorld + endWorld);
  vec3 segmentView = mat3(modelViewMatrix) * (endWorld - startWorld);
  float halfLength = 0.5 * length(segmentView);
  vec3 axisView = halfLength > 0.0 ? segmentView / (2.0 * halfLength) : vec3(1.0, 0.0, 0.0);
  float shortRadius = sizeView * score;
  float longRadius = halfLength * (1.0 + ELLIPSOID_STRETCH * score) + shortRadius;
  vColourStart = startColour;
  vColourEnd = endColour;
  // The stretched ellipsoids of an edge's first and last segments would poke through their nodes: cut there.
  float endAlong = halfLength / longRadius;
  vAlongLimits = vec2(startScoreAndT.y == 0.0 ? -endAlong : -NO_LIMIT, endScoreAndT.y == 1.0 ? endAlong : NO_LIMIT);
#ifdef TRANSPARENT
  if (importanceTerm(startColour.a) <= 0.0 && importanceTerm(endColour.a) <= 0.0) visible = false;
#endif
#else
  float score = scoreAndT.x;
  bool visible = true;
  vec3 axisView = vec3(1.0, 0.0, 0.0);
  float shortRadius = sizeView * score;
  float longRadius = shortRadius;
  vColourStart = colour;
  vColourEnd = colour;
  vAlongLimits = vec2(-NO_LIMIT, NO_LIMIT);
#ifdef TRANSPARENT
  if (importanceTerm(colour.a) <= 0.0) visible = false;  // fully transparent: skip its pixels
#endif
#endif
  vec3 centreView = (modelViewMatrix * vec4(centreWorld, 1.0)).xyz;
  float distanceView = length(centreView);
  if (!visible || score <= importanceThreshold || shortRadius <= 0.0 || distanceView <= 0.0) {
    gl_Position = CULLED;
    return;
  }
  // Quad in the plane through the centre facing the camera: u along the projected long axis, v across it.
  vec3 toCamera = -centreView / distanceView;
  float cosAngle = dot(axisView, toCamera);
  vec3 across = axisView - cosAngle * toCamera;
  float sinAngle = length(across);
  // Seen end-on the axis gives no direction: any vector across the view ray will do.
  vec3 fallback = abs(toCamera.x) < 0.9 ? vec3(1.0, 0.0, 0.0) : vec3(0.0, 1.0, 0.0);
  vec3 u = sinAngle > 1e-4 ? across / sinAngle : normalize(cross(toCamera, fallback));
  vec3 v = cross(toCamera, u);
  float extentU = sqrt(longRadius * longRadius * sinAngle * sinAngle + shortRadius * shortRadius * cosAngle * cosAngle);
  // Points nearer than the centre project farther out; grow the quad by the worst case.
  float growth = distanceView / max(distanceView - longRadius, distanceView / MAX_PERSPECTIVE_GROWTH);
  vQuadView = centreView + growth * (position.x * extentU * u + position.y * shortRadius * v);
  gl_Position = projectionMatrix * vec4(vQuadView, 1.0);
  vCentreView = centreView;
  vAxisView = axisView;
  vRadii = vec2(longRadius, shortRadius);
}
