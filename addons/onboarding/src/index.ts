export { Onboarding } from './onboarding.js';
export { onboardingPage } from './page.js';
import { Onboarding } from './onboarding.js';
export default Onboarding;
